use std::process::ExitCode;

fn main() -> ExitCode {
    codestar_reconcile::cli::main()
}
