//! `deepend`: the native command-line tool. Each subcommand lives in its own module of the
//! library and returns its exit status.

use deepend_cli::{check_history, run, sweep};

const USAGE: &str = "\
usage: deepend <command> [arguments]

commands:
  run <FILE | ->            run a script; print its summary (and with --trace every event)
  sweep [OPTIONS]           run many seeds of random faults on every core, checkers on
  check-history <FILE | ->  check a client history (JSON) for linearizability
  chapters                  list the chapters of the registry: name, title and what each shows,
                            tab-separated (the dist build makes a page of each)

Run `deepend <command> --help` for a command's options.
";

fn main() {
    let mut args = Vec::new();
    for arg in std::env::args_os().skip(1) {
        match arg.into_string() {
            Ok(arg) => args.push(arg),
            Err(arg) => {
                eprintln!("deepend: argument {arg:?} is not valid UTF-8");
                std::process::exit(2);
            }
        }
    }
    std::process::exit(run(&args));
}

fn run(args: &[String]) -> i32 {
    let Some((command, rest)) = args.split_first() else {
        eprint!("{USAGE}");
        return 2;
    };
    match command.as_str() {
        "run" => run::main(rest),
        "sweep" => sweep::main(rest),
        "check-history" => check_history::main(rest),
        "chapters" if rest.is_empty() => {
            for c in deepend_core::chapters::ALL {
                println!("{}\t{}\t{}", c.name, c.title, c.blurb);
            }
            0
        }
        "-h" | "--help" | "help" => {
            print!("{USAGE}");
            0
        }
        other => {
            eprintln!("deepend: unknown command {other:?}\n\n{USAGE}");
            2
        }
    }
}
