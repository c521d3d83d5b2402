// A real OpenID Connect provider for the browser tests: oidc-provider (the certified
// Node.js implementation) with its development login pages, on loopback. Not a mock: the
// server under test discovers it, is sent to its authorization endpoint, exchanges the
// code with PKCE and checks the signed ID token against its JWKS like any provider's.
//
// One confidential client (`datamag360`, PKCE required, secret from OIDC_CLIENT_SECRET)
// whose redirect URI is OIDC_REDIRECT_URI. Any login name signs in (the development
// pages take any password); these names carry DataMag360 claims:
//   alice    admin
//   lea      manager of Paris and Lyon (one by city, one by id)
//   paul     manager of Lyon
//   nora     manager with no store
//   max      an unknown role ("cashier")
// and any other name has no role claim at all.
//
// Usage: OIDC_PORT=3941 OIDC_REDIRECT_URI=http://127.0.0.1:3940/auth/oidc/callback \
//        OIDC_CLIENT_SECRET=… node end2end/oidc/provider.mjs
import Provider from "oidc-provider";

const port = Number(process.env.OIDC_PORT ?? 3941);
const redirectUri = process.env.OIDC_REDIRECT_URI;
const clientSecret = process.env.OIDC_CLIENT_SECRET;
if (!redirectUri || !clientSecret) {
  console.error("OIDC_REDIRECT_URI and OIDC_CLIENT_SECRET are required");
  process.exit(2);
}
const issuer = `http://127.0.0.1:${port}`;

const claimsOf = {
  alice: { datamag_role: "admin", email: "alice@example.test" },
  lea: { datamag_role: "manager", datamag_stores: ["Paris", 2], email: "lea@example.test" },
  paul: { datamag_role: "manager", datamag_stores: "Lyon" },
  nora: { datamag_role: "manager", datamag_stores: [] },
  max: { datamag_role: "cashier" },
};

const provider = new Provider(issuer, {
  clients: [
    {
      client_id: "datamag360",
      client_secret: clientSecret,
      redirect_uris: [redirectUri],
      grant_types: ["authorization_code"],
      response_types: ["code"],
      token_endpoint_auth_method: "client_secret_basic",
    },
  ],
  // PKCE on every authorization request, S256 only.
  pkce: { required: () => true, methods: ["S256"] },
  claims: {
    openid: ["sub"],
    email: ["email"],
    profile: ["preferred_username", "name"],
    datamag: ["datamag_role", "datamag_stores"],
  },
  // The scopes' claims go into the ID token (as Entra ID or Keycloak mappers do).
  conformIdTokenClaims: false,
  features: { devInteractions: { enabled: true } },
  cookies: { keys: ["end-to-end tests only, not a secret"] },
  // A first-party client: no consent screen, the grant covers what was asked.
  async loadExistingGrant(ctx) {
    const grantId =
      ctx.oidc.result?.consent?.grantId || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
    if (grantId) {
      return ctx.oidc.provider.Grant.find(grantId);
    }
    const grant = new ctx.oidc.provider.Grant({
      clientId: ctx.oidc.client.clientId,
      accountId: ctx.oidc.session.accountId,
    });
    grant.addOIDCScope(ctx.oidc.params.scope);
    await grant.save();
    return grant;
  },
  async findAccount(ctx, id) {
    return {
      accountId: id,
      async claims() {
        return { sub: id, preferred_username: id, name: id, ...(claimsOf[id] ?? {}) };
      },
    };
  },
});
provider.proxy = false;

const server = provider.listen(port, "127.0.0.1", () => {
  console.log(`oidc provider ready: ${issuer}`);
});
for (const signal of ["SIGINT", "SIGTERM"]) {
  process.on(signal, () => server.close(() => process.exit(0)));
}
