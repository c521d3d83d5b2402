//! The command line's exit codes, one per outcome a script or a scheduler must tell apart.
//! They are listed in `--help` ([`EXIT_CODES_HELP`]) and in the README.

use std::fmt;

/// How a command ended. `0` only when everything asked for is done.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Everything asked for is done.
    Done,
    /// Something failed: a partition, an import step, the database, the lake.
    Failed,
    /// Bad command line (clap's own code).
    Usage,
    /// Bad input: e.g. an import in which no line is valid, an unreadable file.
    BadInput,
    /// Work is left: partitions fail and wait for their retry, or were never run.
    /// The command printed what is missing and the command that finishes it.
    Incomplete,
    /// Stopped by SIGINT/SIGTERM between partitions; running the same command again finishes.
    Interrupted,
}

impl Outcome {
    pub const fn code(self) -> u8 {
        match self {
            Outcome::Done => 0,
            Outcome::Failed => 1,
            Outcome::Usage => 2,
            Outcome::BadInput => 65,
            Outcome::Incomplete => 75,
            Outcome::Interrupted => 130,
        }
    }
}

/// The exit codes as `--help` and the README list them.
pub const EXIT_CODES_HELP: &str = "\
Exit codes:
  0    everything asked for is done
  1    failed: a partition, an import step, the database or the lake failed
  2    bad command line
  65   bad input: a backfill range outside 2021-01-01 … the last complete hour,
       an import with no valid line, an unreadable or unknown file
  75   incomplete: partitions are still missing (listed, with the command that finishes them)
  130  interrupted (SIGINT/SIGTERM): the ledger is consistent, run the same command again";

/// An error that ends the command with a chosen exit code. Other errors exit with
/// [`Outcome::Failed`].
#[derive(Debug)]
pub struct Exit {
    pub outcome: Outcome,
    pub message: String,
}

impl Exit {
    pub fn new(outcome: Outcome, message: impl Into<String>) -> Self {
        Self {
            outcome,
            message: message.into(),
        }
    }
}

impl fmt::Display for Exit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Exit {}

/// The exit code of a command's result: the [`Exit`] anywhere in the error chain decides,
/// any other error is a failure.
pub fn outcome_of(result: &anyhow::Result<()>) -> Outcome {
    match result {
        Ok(()) => Outcome::Done,
        Err(e) => e
            .chain()
            .find_map(|cause| cause.downcast_ref::<Exit>())
            .map_or(Outcome::Failed, |exit| exit.outcome),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_exit_in_the_chain_decides_the_code() {
        assert_eq!(outcome_of(&Ok(())).code(), 0);
        let plain: anyhow::Result<()> = Err(anyhow::anyhow!("boom"));
        assert_eq!(outcome_of(&plain), Outcome::Failed);
        let wrapped: anyhow::Result<()> = Err(anyhow::Error::new(Exit::new(
            Outcome::Incomplete,
            "3 hours missing",
        ))
        .context("backfill"));
        assert_eq!(outcome_of(&wrapped).code(), 75);
    }

    #[test]
    fn every_code_is_distinct_and_listed_in_the_help() {
        let all = [
            Outcome::Done,
            Outcome::Failed,
            Outcome::Usage,
            Outcome::BadInput,
            Outcome::Incomplete,
            Outcome::Interrupted,
        ];
        let mut codes: Vec<u8> = all.iter().map(|o| o.code()).collect();
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), all.len());
        for o in all {
            assert!(
                EXIT_CODES_HELP.contains(&format!("\n  {:<4} ", o.code())),
                "{o:?} is listed"
            );
        }
    }
}
