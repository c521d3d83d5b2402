//! What an admin page shows when its data did not load: access refused (no account, or a
//! role below admin), or a read that failed, each worded in the page's language.

use leptos::prelude::*;

use crate::i18n::Lang;
use crate::wire::LoadError;

/// The notice for `error` on an admin-only page. `failed` is the page's own "could not be
/// read" sentence (French, English); the refusal is the same on every admin page and carries
/// `id="not-allowed"` (the browser tests look for it).
#[component]
pub fn AdminLoadFailed(
    error: LoadError,
    lang: Memo<Lang>,
    failed: (&'static str, &'static str),
) -> impl IntoView {
    let (fr, en) = match error {
        LoadError::NotAllowed | LoadError::SignIn => (
            "Accès refusé : cette page est réservée aux administrateurs.",
            "Access denied: this page is for admins only.",
        ),
        _ => failed,
    };
    let id = matches!(error, LoadError::NotAllowed | LoadError::SignIn).then_some("not-allowed");
    view! {
        <p class="error" role="alert" id=id>
            {move || lang.get().pick(fr, en)}
        </p>
    }
}
