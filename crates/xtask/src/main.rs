//! Developer automation for Deep End, run as `cargo xtask <command>`.
//!
//! Everything CI does is here, in Rust, with no dependencies: `.ci/run` only calls
//! `cargo xtask test`. The machines this project runs on reach the package registries and
//! nothing else, and a fresh one has none of the web tool chain, so `setup` installs each tool
//! that is missing, at the exact version that works offline, and
//! leaves alone what is already there. Every external command is printed before it runs.

use std::env;
use std::ffi::OsString;
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::{Instant, SystemTime};

const USAGE: &str = "\
usage: cargo xtask <command>

commands:
  setup [--no-browser]  install what is missing: the wasm32 target, trunk, wasm-bindgen-cli
                        (the version in Cargo.lock), the npm packages of tests/e2e (wasm-opt,
                        playwright-core) and Debian's Chromium
  serve [--port N]      setup (without Chromium), dist, then serve dist/ at 127.0.0.1:8080,
                        rebuilding when a source changes
  dist [--only A,B]     setup (without Chromium), then one page per chapter in dist/ (each
                        with its own wasm bundle; only chapters A and B with --only), an
                        index page, .gz/.br files, and sizes; fails if a page is over budget
  e2e                   the browser tests against the dist/ already built
  check-core            assert that deepend-core stays free of browser crates and randomness
  bench [--quick]       measure the core natively and in wasm (events/s, sweeps, seek, memory),
                        then the page in Chromium (bundle size, time to interactive, frames)
  test                  everything CI checks, in order, stopping at the first failure
";

const TRUNK_VERSION: &str = "0.21.14";
/// A chapter's page may weigh this much gzipped, HTML, scripts, wasm and styles together.
const PAGE_BUDGET_GZ: u64 = 300 * 1024;
const WASM_TARGET: &str = "wasm32-unknown-unknown";
const CHROMIUM: &str = "/usr/bin/chromium";
/// Crates the core must never depend on: the browser (architecture invariant) and OS randomness.
const CORE_FORBIDDEN: &[&str] = &["yew", "web-sys", "wasm-bindgen", "js-sys", "getrandom"];
/// The only crates allowed to bring getrandom into the wasm bundle. Yew 0.23 depends on all of
/// gloo, whose history module draws random keys from `crypto.getRandomValues`; the simulation
/// never sees it, because the core (checked above) cannot reach it.
const GETRANDOM_ALLOWED_DEPENDENTS: &[&str] = &["gloo-history"];

type Result<T = (), E = String> = std::result::Result<T, E>;

fn main() -> ExitCode {
    let args: Vec<String> = env::args().skip(1).collect();
    let xtask = Xtask::new();
    let result = match args.first().map(String::as_str) {
        Some("setup") => match &args[1..] {
            [] => xtask.setup(Browser::Install),
            [flag] if flag == "--no-browser" => xtask.setup(Browser::Skip),
            _ => Err(format!("unexpected arguments to setup: {:?}\n\n{USAGE}", &args[1..])),
        },
        Some("serve") => xtask.serve(&args[1..]),
        Some("dist") => match &args[1..] {
            [] => xtask.setup(Browser::Skip).and_then(|()| xtask.dist(None)),
            [flag, names] if flag == "--only" => {
                let names: Vec<&str> = names.split(',').collect();
                xtask.setup(Browser::Skip).and_then(|()| xtask.dist(Some(&names)))
            }
            _ => Err(format!("unexpected arguments to dist: {:?}\n\n{USAGE}", &args[1..])),
        },
        Some("check-core") if args.len() == 1 => xtask.check_core(),
        Some("e2e") if args.len() == 1 => xtask.e2e(),
        Some("test") if args.len() == 1 => xtask.test(),
        Some("bench") => xtask.bench(&args[1..]),
        None | Some("help" | "-h" | "--help") => {
            print!("{USAGE}");
            Ok(())
        }
        Some(other) => Err(format!(
            "unknown command or arguments: {other} {:?}\n\n{USAGE}",
            &args[1..]
        )),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("xtask: error: {message}");
            ExitCode::FAILURE
        }
    }
}

/// The steps of `cargo xtask test`, in order: cheap checks first.
#[derive(Clone, Copy)]
enum Step {
    Setup,
    Fmt,
    ClippyNative,
    ClippyWasm,
    CheckCore,
    TestNative,
    TestWasm,
    Dist,
    E2e,
}

impl Step {
    const ALL: [Step; 9] = [
        Step::Setup,
        Step::Fmt,
        Step::ClippyNative,
        Step::ClippyWasm,
        Step::CheckCore,
        Step::TestNative,
        Step::TestWasm,
        Step::Dist,
        Step::E2e,
    ];

    fn name(self) -> &'static str {
        match self {
            Step::Setup => "setup",
            Step::Fmt => "cargo fmt --check",
            Step::ClippyNative => "clippy (workspace, native)",
            Step::ClippyWasm => "clippy (web, wasm32)",
            Step::CheckCore => "check-core",
            Step::TestNative => "cargo test (workspace, native)",
            Step::TestWasm => "core tests in wasm (Node)",
            Step::Dist => "dist (release bundle)",
            Step::E2e => "browser end-to-end tests",
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Browser {
    Install,
    Skip,
}

struct Xtask {
    root: PathBuf,
    cargo: OsString,
    /// PATH for every command: the npm tools of tests/e2e (wasm-opt for trunk) and cargo's
    /// install directory come first, so that freshly installed tools are found.
    path: OsString,
}

impl Xtask {
    fn new() -> Self {
        // crates/xtask -> the workspace root.
        let root = Path::new(env!("CARGO_MANIFEST_DIR"))
            .ancestors()
            .nth(2)
            .expect("crates/xtask lies two levels below the workspace root")
            .to_path_buf();
        let cargo = env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let cargo_home = env::var_os("CARGO_HOME")
            .map(PathBuf::from)
            .or_else(|| env::var_os("HOME").map(|home| Path::new(&home).join(".cargo")));
        let mut dirs = vec![root.join("tests/e2e/node_modules/.bin")];
        dirs.extend(cargo_home.map(|home| home.join("bin")));
        dirs.extend(env::split_paths(&env::var_os("PATH").unwrap_or_default()));
        let path = env::join_paths(dirs).expect("PATH entries contain no separator");
        Xtask { root, cargo, path }
    }

    /// A command run from the workspace root with the extended PATH.
    fn cmd(&self, program: impl Into<OsString>) -> Command {
        let mut cmd = Command::new(program.into());
        cmd.current_dir(&self.root).env("PATH", &self.path);
        cmd
    }

    fn cargo(&self, args: &[&str]) -> Command {
        let mut cmd = self.cmd(&self.cargo);
        cmd.args(args);
        cmd
    }

    /// Runs a command, echoing it, and fails if it fails.
    fn run(&self, cmd: &mut Command) -> Result {
        let shown = show(cmd);
        println!("$ {shown}");
        let status = cmd.status().map_err(|e| format!("cannot run `{shown}`: {e}"))?;
        if status.success() {
            Ok(())
        } else {
            Err(format!("`{shown}` failed ({status})"))
        }
    }

    /// A command's standard output, or `None` if it is missing or fails.
    fn capture(&self, cmd: &mut Command) -> Option<String> {
        let output = cmd.stdin(Stdio::null()).stderr(Stdio::null()).output().ok()?;
        output
            .status
            .success()
            .then(|| String::from_utf8_lossy(&output.stdout).trim().to_string())
    }

    /// The version a tool prints for `--version` ("trunk 0.21.14" gives "0.21.14").
    fn tool_version(&self, program: &str) -> Option<String> {
        let out = self.capture(self.cmd(program).arg("--version"))?;
        out.split_whitespace().nth(1).map(str::to_string)
    }

    // ---------------------------------------------------------------------------------------
    // setup

    fn setup(&self, browser: Browser) -> Result {
        println!("xtask setup: checking tools (installing only what is missing)");
        self.setup_rust_components()?;
        self.setup_wasm_target()?;
        self.setup_trunk()?;
        self.setup_wasm_bindgen()?;
        self.setup_npm()?;
        self.setup_crates()?;
        if browser == Browser::Install {
            self.setup_chromium()?;
        }
        Ok(())
    }

    fn setup_rust_components(&self) -> Result {
        for (component, probe) in [("rustfmt", "fmt"), ("clippy", "clippy")] {
            if self
                .capture(self.cargo(&[probe, "--version"]).env("RUSTUP_AUTO_INSTALL", "0"))
                .is_some()
            {
                println!("  ok    {component}");
            } else {
                self.run(self.cmd("rustup").args(["component", "add", component]))?;
            }
        }
        Ok(())
    }

    fn setup_wasm_target(&self) -> Result {
        let installed = self
            .capture(self.cmd("rustup").args(["target", "list", "--installed"]))
            .unwrap_or_default();
        if installed.lines().any(|line| line.trim() == WASM_TARGET) {
            println!("  ok    rust target {WASM_TARGET}");
            Ok(())
        } else {
            self.run(self.cmd("rustup").args(["target", "add", WASM_TARGET]))
        }
    }

    fn setup_trunk(&self) -> Result {
        match self.tool_version("trunk") {
            Some(v) if v == TRUNK_VERSION => {
                println!("  ok    trunk {v}");
                Ok(())
            }
            found => {
                println!(
                    "  need  trunk {TRUNK_VERSION} (found {}); about 11 minutes on 2 cores",
                    found.as_deref().unwrap_or("none")
                );
                // trunk 0.22 needs a newer rustc than these machines have; --locked keeps the
                // dependency versions trunk was released with.
                self.run(&mut self.cargo(&["install", "trunk", "--version", TRUNK_VERSION, "--locked"]))
            }
        }
    }

    fn setup_wasm_bindgen(&self) -> Result {
        let lock =
            fs::read_to_string(self.root.join("Cargo.lock")).map_err(|e| format!("cannot read Cargo.lock: {e}"))?;
        let version = match locked_versions(&lock, "wasm-bindgen").as_slice() {
            [v] => v.clone(),
            [] => {
                return Err("Cargo.lock has no wasm-bindgen; build the web crate once to resolve it".into());
            }
            many => {
                return Err(format!(
                    "Cargo.lock holds several wasm-bindgen versions {many:?}; trunk needs one"
                ));
            }
        };
        let cli = self.tool_version("wasm-bindgen");
        let runner = self.tool_version("wasm-bindgen-test-runner");
        if cli.as_deref() == Some(&version) && runner.as_deref() == Some(&version) {
            println!("  ok    wasm-bindgen-cli {version} (matches Cargo.lock)");
            return Ok(());
        }
        println!(
            "  need  wasm-bindgen-cli {version} to match Cargo.lock (found {}); about 4 minutes",
            cli.as_deref().unwrap_or("none")
        );
        // No --locked: the CLI's own lock file names a dependency version the registry here
        // lacks. The CLI version must equal the library's exactly, or trunk tries a download.
        self.run(&mut self.cargo(&["install", "wasm-bindgen-cli", "--version", &format!("={version}")]))
    }

    fn setup_npm(&self) -> Result {
        let dir = self.root.join("tests/e2e");
        let npm_version = self.capture(self.cmd("npm").arg("--version"));
        let Some(npm_version) = npm_version else {
            return Err("npm not found: these machines ship Node.js 20 with npm; install them first".into());
        };
        // npm writes node_modules/.package-lock.json after every install; if it is newer than
        // the committed lock and the manifest, node_modules is what `npm ci` would produce.
        let hidden = modified(&dir.join("node_modules/.package-lock.json"));
        let fresh = hidden.is_some()
            && hidden >= modified(&dir.join("package-lock.json"))
            && hidden >= modified(&dir.join("package.json"))
            && dir.join("node_modules/.bin/wasm-opt").exists()
            && dir.join("node_modules/playwright-core").exists();
        if fresh {
            println!("  ok    npm packages in tests/e2e (binaryen's wasm-opt, playwright-core)");
            Ok(())
        } else {
            println!("  need  npm packages in tests/e2e (npm {npm_version})");
            self.run(
                self.cmd("npm")
                    .args(["ci", "--no-audit", "--no-fund"])
                    .current_dir(&dir),
            )
        }
    }

    /// trunk builds with `--offline`, so every crate in Cargo.lock, for every target, must be
    /// in cargo's cache first. Quick when it already is.
    fn setup_crates(&self) -> Result {
        println!("  check crates in Cargo.lock (cargo fetch)");
        self.run(&mut self.cargo(&["fetch", "--quiet"]))
    }

    fn setup_chromium(&self) -> Result {
        if Path::new(CHROMIUM).exists() {
            println!("  ok    chromium ({CHROMIUM})");
            return Ok(());
        }
        println!("  need  chromium from Debian (playwright-core drives it; it cannot download one here)");
        let root = self.capture(self.cmd("id").arg("-u")).as_deref() == Some("0");
        let apt = |args: &[&str]| {
            let mut cmd = if root { self.cmd("apt-get") } else { self.cmd("sudo") };
            if !root {
                cmd.arg("apt-get");
            }
            cmd.args(args).env("DEBIAN_FRONTEND", "noninteractive");
            cmd
        };
        self.run(&mut apt(&["update"]))?;
        self.run(&mut apt(&["install", "-y", "chromium", "chromium-driver"]))
    }

    // ---------------------------------------------------------------------------------------
    // serve and dist

    /// Builds every page into dist/, serves it at http://127.0.0.1:8080 (or `--port N`) and
    /// rebuilds when a source changes.
    fn serve(&self, args: &[String]) -> Result {
        let port = match args {
            [] => "8080".to_string(),
            [flag, port] if flag == "--port" && port.parse::<u16>().is_ok() => port.clone(),
            _ => return Err(format!("unexpected arguments to serve: {args:?}\n\n{USAGE}")),
        };
        self.setup(Browser::Skip)?;
        self.dist(None)?;
        let mut server = self
            .cmd("node")
            .arg(self.root.join("tests/e2e/serve.mjs"))
            .arg(self.root.join("dist"))
            .arg(&port)
            .spawn()
            .map_err(|e| format!("cannot start node: {e}"))?;
        let mut seen = self.newest_source();
        loop {
            std::thread::sleep(std::time::Duration::from_secs(1));
            if let Ok(Some(status)) = server.try_wait() {
                return Err(format!("the server stopped: {status}"));
            }
            let now = self.newest_source();
            if now > seen {
                seen = now;
                println!("\nxtask serve: a source changed, rebuilding dist/");
                if let Err(e) = self.dist(None) {
                    // Keep serving the last good build; the error is on screen.
                    eprintln!("xtask serve: the rebuild failed: {e}");
                }
            }
        }
    }

    /// The newest modification time among the pages' sources.
    fn newest_source(&self) -> Option<SystemTime> {
        let mut files = Vec::new();
        for dir in ["www", "crates/web", "crates/core"] {
            let _ = collect_files(&self.root.join(dir), &mut files);
        }
        files.extend(["index.html", "Cargo.toml"].map(|f| self.root.join(f)));
        files.iter().filter_map(|f| modified(f)).max()
    }

    /// The chapters of the registry, as `deepend chapters` lists them: (name, title, blurb).
    fn chapters(&self) -> Result<Vec<(String, String, String)>> {
        let out = self
            .capture(&mut self.cargo(&["run", "--quiet", "--release", "-p", "deepend-cli", "--", "chapters"]))
            .ok_or("`deepend chapters` failed")?;
        out.lines()
            .map(|line| match line.split('\t').collect::<Vec<_>>()[..] {
                [name, title, blurb] => Ok((name.to_string(), title.to_string(), blurb.to_string())),
                _ => Err(format!("`deepend chapters` printed an unexpected line: {line:?}")),
            })
            .collect()
    }

    /// One page per chapter (`NAME.html`, its own wasm bundle built with only that chapter's
    /// feature), an index page that lists them and sends old links on, and `.gz` and `.br`
    /// files beside every asset. Prints each page's size, and fails if one is over budget.
    /// With `only`, builds the pages of those chapters alone (the index lists every chapter).
    fn dist(&self, only: Option<&[&str]>) -> Result {
        let chapters = self.chapters()?;
        if let Some(only) = only
            && let Some(unknown) = only.iter().find(|n| !chapters.iter().any(|(name, _, _)| name == *n))
        {
            let names: Vec<&str> = chapters.iter().map(|(name, _, _)| name.as_str()).collect();
            return Err(format!(
                "there is no chapter {unknown:?}; the chapters are {}",
                names.join(", ")
            ));
        }
        let dist = self.root.join("dist");
        if dist.exists() {
            fs::remove_dir_all(&dist).map_err(|e| format!("cannot clear {}: {e}", dist.display()))?;
        }
        fs::create_dir_all(&dist).map_err(|e| format!("cannot create {}: {e}", dist.display()))?;
        let mut pages = Vec::new();
        for (name, title, _) in &chapters {
            if only.is_some_and(|only| !only.contains(&name.as_str())) {
                continue;
            }
            let page = format!("{name}.html");
            pages.push((page.clone(), self.build_page(name, title, &page, &dist)?));
        }
        let template = fs::read_to_string(self.root.join("index.html")).map_err(|e| format!("index.html: {e}"))?;
        write(&dist.join("index.html"), &index_page(&template, &chapters))?;
        let icon = self.root.join("www/favicon.svg");
        fs::copy(&icon, dist.join("favicon.svg")).map_err(|e| format!("cannot copy {}: {e}", icon.display()))?;
        self.report_sizes(&dist, &pages)
    }

    /// Builds the web crate with `features` (a chapter's name) into `dist` as the page `file`,
    /// from index.html as the template; returns the files it wrote, relative to `dist`.
    fn build_page(&self, features: &str, title: &str, file: &str, dist: &Path) -> Result<Vec<PathBuf>> {
        let template = fs::read_to_string(self.root.join("index.html")).map_err(|e| format!("index.html: {e}"))?;
        let page = chapter_page(&template, features, title)?;
        let work = self.root.join("target/pages");
        fs::create_dir_all(&work).map_err(|e| format!("cannot create {}: {e}", work.display()))?;
        let html = work.join(file);
        write(&html, &page)?;
        let out = work.join(format!("dist-{features}"));
        self.run(
            self.cmd("trunk")
                .args(["build", "--release", "--offline", "--public-url", "./", "--dist"])
                .arg(&out)
                .arg(&html),
        )?;
        let mut files = Vec::new();
        collect_files(&out, &mut files).map_err(|e| format!("cannot list {}: {e}", out.display()))?;
        let mut written = Vec::new();
        for from in files {
            let relative = from.strip_prefix(&out).unwrap_or(&from);
            // trunk names the page after its template or index.html, depending on the version.
            let relative = if relative == Path::new("index.html") {
                Path::new(file)
            } else {
                relative
            };
            let to = dist.join(relative);
            fs::copy(&from, &to).map_err(|e| format!("cannot copy {} to {}: {e}", from.display(), to.display()))?;
            written.push(relative.to_path_buf());
        }
        Ok(written)
    }

    /// Precompresses dist/ and prints each file's size, then each page's total: what a reader
    /// of that page downloads (its HTML, scripts, wasm and stylesheets).
    fn report_sizes(&self, dist: &Path, pages: &[(String, Vec<PathBuf>)]) -> Result {
        let out = self
            .capture(
                self.cmd("node")
                    .arg(self.root.join("crates/xtask/precompress.mjs"))
                    .arg(dist),
            )
            .ok_or("precompressing dist/ failed")?;
        let mut sizes = Vec::new();
        println!("bundle in dist/ (bytes; .gz and .br written beside each file):");
        println!("  {:<44} {:>10} {:>10} {:>10}", "file", "raw", "gzip -9", "brotli");
        for line in out.lines() {
            let [file, raw, gz, br] = line.split('\t').collect::<Vec<_>>()[..] else {
                return Err(format!("precompress printed an unexpected line: {line:?}"));
            };
            let number = |s: &str| s.parse::<u64>().map_err(|e| format!("{line:?}: {e}"));
            let (raw, gz, br) = (number(raw)?, number(gz)?, number(br)?);
            println!("  {file:<44} {raw:>10} {gz:>10} {br:>10}");
            sizes.push((PathBuf::from(file), raw, gz, br));
        }
        println!(
            "pages (what a reader downloads: HTML, scripts, wasm, styles; budget {PAGE_BUDGET_GZ} bytes gzipped):"
        );
        let mut over = Vec::new();
        for (page, files) in pages {
            let (mut raw, mut gz, mut br) = (0, 0, 0);
            for (file, r, g, b) in &sizes {
                let downloaded = file == Path::new(page)
                    || matches!(file.extension().and_then(|e| e.to_str()), Some("js" | "wasm" | "css"));
                if downloaded && files.contains(file) {
                    (raw, gz, br) = (raw + r, gz + g, br + b);
                }
            }
            let verdict = if gz <= PAGE_BUDGET_GZ {
                "within budget"
            } else {
                over.push(format!("{page} ({gz} bytes)"));
                "OVER BUDGET"
            };
            println!("  {page:<44} {raw:>10} {gz:>10} {br:>10}  {verdict}");
        }
        if over.is_empty() {
            Ok(())
        } else {
            Err(format!(
                "over the budget of {PAGE_BUDGET_GZ} bytes gzipped: {}",
                over.join(", ")
            ))
        }
    }

    // ---------------------------------------------------------------------------------------
    // check-core

    /// `cargo tree` of the whole workspace's wasm build (normal dependencies), with `args`.
    fn wasm_tree(&self, args: &[&str]) -> Option<String> {
        let mut all = vec!["tree", "--workspace", "-e", "normal", "--target", WASM_TARGET];
        all.extend_from_slice(args);
        self.capture(&mut self.cargo(&all))
    }

    fn check_core(&self) -> Result {
        // 1. The core depends on no browser crate and no OS randomness, on any target.
        let tree = self
            .capture(&mut self.cargo(&[
                "tree",
                "-p",
                "deepend-core",
                "-e",
                "normal",
                "--target",
                "all",
                "--prefix",
                "none",
                "-f",
                "{p}",
            ]))
            .ok_or("`cargo tree -p deepend-core` failed")?;
        let found: Vec<&str> = package_names(&tree)
            .filter(|name| CORE_FORBIDDEN.contains(name))
            .collect();
        if !found.is_empty() {
            return Err(format!(
                "deepend-core depends on {found:?}; the core must stay free of {CORE_FORBIDDEN:?}"
            ));
        }
        println!("  ok    deepend-core depends on none of {CORE_FORBIDDEN:?} (normal dependencies, every target)");

        // 2. In the wasm build of the whole workspace, getrandom enters only through the
        //    allowed crates (see GETRANDOM_ALLOWED_DEPENDENTS), never through our own code.
        let wasm_tree = self
            .wasm_tree(&["--prefix", "none", "-f", "{p}"])
            .ok_or("`cargo tree --workspace --target wasm32-unknown-unknown` failed")?;
        let mut versions: Vec<&str> = wasm_tree
            .lines()
            .filter_map(|line| line.strip_prefix("getrandom v"))
            .filter_map(|rest| rest.split_whitespace().next())
            .collect();
        versions.sort_unstable();
        versions.dedup();
        for version in &versions {
            let spec = format!("getrandom@{version}");
            let inverted = self
                .wasm_tree(&["-i", &spec, "--depth", "1", "--prefix", "depth", "-f", "{p}"])
                .ok_or_else(|| format!("`cargo tree -i {spec}` failed"))?;
            let dependents: Vec<&str> = inverted
                .lines()
                .filter_map(|line| line.strip_prefix('1'))
                .filter_map(|p| p.split_whitespace().next())
                .collect();
            let unexpected: Vec<&str> = dependents
                .iter()
                .copied()
                .filter(|d| !GETRANDOM_ALLOWED_DEPENDENTS.contains(d))
                .collect();
            if !unexpected.is_empty() {
                return Err(format!(
                    "getrandom {version} enters the wasm build through {unexpected:?}; only {GETRANDOM_ALLOWED_DEPENDENTS:?} \
                     (yew's gloo) may bring it. Seed rand_chacha explicitly instead."
                ));
            }
            println!(
                "  note  getrandom {version} is in the wasm build only through {dependents:?} (yew's gloo), outside the core"
            );
        }
        if versions.is_empty() {
            println!("  ok    getrandom is absent from the wasm build of the workspace");
        }
        Ok(())
    }

    // ---------------------------------------------------------------------------------------
    // test

    fn test(&self) -> Result {
        let started = Instant::now();
        let total = Step::ALL.len();
        for (i, step) in Step::ALL.into_iter().enumerate() {
            let step_started = Instant::now();
            let name = step.name();
            println!("\n==> [{}/{total}] {name}", i + 1);
            if let Err(e) = self.run_step(step) {
                println!(
                    "\nxtask test: FAILED at step {}/{total} ({name}) after {} s",
                    i + 1,
                    started.elapsed().as_secs()
                );
                return Err(e);
            }
            println!(
                "<== [{}/{total}] {name}: ok ({} s)",
                i + 1,
                step_started.elapsed().as_secs()
            );
        }
        println!(
            "\nxtask test: all {total} steps passed in {} s",
            started.elapsed().as_secs()
        );
        Ok(())
    }

    fn run_step(&self, step: Step) -> Result {
        match step {
            Step::Setup => self.setup(Browser::Install),
            Step::Fmt => self.run(&mut self.cargo(&["fmt", "--all", "--", "--check"])),
            Step::ClippyNative => {
                self.run(&mut self.cargo(&["clippy", "--workspace", "--all-targets", "--", "-D", "warnings"]))
            }
            Step::ClippyWasm => self.run(&mut self.cargo(&[
                "clippy",
                "-p",
                "deepend-web",
                "--target",
                WASM_TARGET,
                "--all-targets",
                "--",
                "-D",
                "warnings",
            ])),
            Step::CheckCore => self.check_core(),
            // The `ci` profile optimises (the seed sweeps run thousands of simulations) but
            // keeps debug assertions and overflow checks on.
            // With the echo test chapter, which proves that a chapter plugs in through the
            // registry alone (it ships on no page).
            Step::TestNative => self.run(&mut self.cargo(&[
                "test",
                "--workspace",
                "--profile",
                "ci",
                "--features",
                "deepend-cli/echo,deepend-web/echo",
            ])),
            Step::TestWasm => {
                // The runner is wasm-bindgen-test-runner (see .cargo/config.toml), under Node.
                self.run(
                    self.cargo(&["test", "-p", "deepend-core", "--target", WASM_TARGET, "--test", "wasm"])
                        .env("WASM_BINDGEN_TEST_TIMEOUT", "300"),
                )
            }
            Step::Dist => self.dist(None),
            Step::E2e => self.e2e(),
        }
    }

    /// The native benchmarks, then the same library built for wasm32 and timed under Node.
    fn bench(&self, args: &[String]) -> Result {
        let quick = match args {
            [] => false,
            [flag] if flag == "--quick" => true,
            _ => return Err(format!("unexpected arguments to bench: {args:?}\n\n{USAGE}")),
        };
        let mut native = self.cargo(&["run", "--release", "-p", "deepend-bench", "--"]);
        if quick {
            native.arg("--quick");
        }
        self.run(&mut native)?;
        self.setup_wasm_target()?;
        self.run(&mut self.cargo(&[
            "build",
            "--release",
            "-p",
            "deepend-bench",
            "--lib",
            "--target",
            WASM_TARGET,
        ]))?;
        let target = env::var_os("CARGO_TARGET_DIR").map_or_else(|| self.root.join("target"), PathBuf::from);
        let wasm = target.join(WASM_TARGET).join("release/deepend_bench.wasm");
        self.run(
            self.cmd("node")
                .arg(self.root.join("crates/bench/run-wasm.mjs"))
                .arg(wasm),
        )?;
        // The page: the release bundle in headless Chromium.
        self.setup(Browser::Install)?;
        self.dist(None)?;
        // The shared base: the lab with only the echo test chapter, whose protocol is a few
        // hundred bytes. What a real chapter's page weighs above it is that chapter's cost.
        println!("\nthe shared base (the lab with the echo test chapter only; not shipped):");
        let base = self.root.join("target/pages/base");
        if base.exists() {
            fs::remove_dir_all(&base).map_err(|e| format!("cannot clear {}: {e}", base.display()))?;
        }
        fs::create_dir_all(&base).map_err(|e| format!("cannot create {}: {e}", base.display()))?;
        let files = self.build_page("echo", "Echo", "echo.html", &base)?;
        self.report_sizes(&base, &[("echo.html".to_string(), files)])?;
        self.run(self.cmd("node").arg(self.root.join("tests/e2e/bench-page.mjs")))
    }

    fn e2e(&self) -> Result {
        let dir = self.root.join("tests/e2e");
        let mut tests: Vec<PathBuf> = fs::read_dir(&dir)
            .map_err(|e| format!("cannot list {}: {e}", dir.display()))?
            .filter_map(|entry| entry.ok().map(|e| e.path()))
            .filter(|p| {
                p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.ends_with(".test.mjs"))
            })
            .collect();
        tests.sort();
        if tests.is_empty() {
            return Err("no *.test.mjs in tests/e2e".into());
        }
        // Naming the files keeps this independent of how each Node version expands a folder.
        self.run(
            self.cmd("node")
                .arg("--test")
                // One browser at a time: on two cores, parallel browsers only slow each other.
                .arg("--test-concurrency=1")
                .args(tests.iter().map(|p| p.strip_prefix(&self.root).unwrap_or(p))),
        )
    }
}

/// `cmd` as a shell line, for the log.
fn show(cmd: &Command) -> String {
    // `$CARGO` is an absolute path into the toolchain; its file name says enough.
    let program = Path::new(cmd.get_program());
    let mut line = program
        .file_name()
        .unwrap_or(program.as_os_str())
        .to_string_lossy()
        .into_owned();
    for arg in cmd.get_args() {
        let arg = arg.to_string_lossy();
        if arg.is_empty() || arg.contains(|c: char| c.is_whitespace() || "{}'\"$".contains(c)) {
            let _ = write!(line, " '{arg}'");
        } else {
            let _ = write!(line, " {arg}");
        }
    }
    line
}

fn write(path: &Path, text: &str) -> Result {
    fs::write(path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))
}

/// A chapter's page from index.html: its title, paths that reach the sources from
/// target/pages/, and the web crate built with only the chapter's feature.
fn chapter_page(template: &str, features: &str, title: &str) -> Result<String> {
    const RUST_LINK: &str = "data-bin=\"deepend-web\"";
    if !template.contains(RUST_LINK) || !template.contains("<title>") {
        return Err(format!("index.html has no <title> or no rust link with {RUST_LINK}"));
    }
    Ok(template
        .replace("href=\"www/", "href=\"../../www/")
        .replace("href=\"crates/", "href=\"../../crates/")
        .replace(
            RUST_LINK,
            &format!("{RUST_LINK} data-cargo-no-default-features data-cargo-features=\"{features}\""),
        )
        .replace("<title>", &format!("<title>{title} · ")))
}

/// The index page: the chapters as links, and a few lines of script that send an old link
/// (`/?c=paxos&s=...`, or one whose script names its chapter) on to that chapter's page. A
/// link for an unknown chapter gets a message and the list, never a silent fallback.
fn index_page(template: &str, chapters: &[(String, String, String)]) -> String {
    // The head's metadata (charset, viewport, title, description) is the chapter pages' own.
    let meta: String = template
        .lines()
        .filter(|l| l.trim_start().starts_with("<meta") || l.trim_start().starts_with("<title"))
        .map(|l| format!("{l}\n"))
        .collect();
    let escape = |s: &str| s.replace('&', "&amp;").replace('<', "&lt;").replace('"', "&quot;");
    let items: String = chapters
        .iter()
        .map(|(name, title, blurb)| {
            format!(
                "      <li><a href=\"{name}.html\" data-chapter=\"{name}\">{}</a> <span>{}</span></li>\n",
                escape(title),
                escape(blurb)
            )
        })
        .collect();
    let names: Vec<String> = chapters.iter().map(|(name, ..)| format!("\"{name}\"")).collect();
    let names = names.join(", ");
    format!(
        r#"<!doctype html>
<html lang="en">
  <head>
{meta}    <link rel="icon" href="favicon.svg">
    <script>
      // An old link (from when one page ran every chapter) opens its chapter's page.
      (function () {{
        var chapters = [{names}];
        var query = new URLSearchParams(location.search);
        var chapter = query.get("c") || (query.get("s") || "").split(".")[0];
        if (chapters.indexOf(chapter) >= 0) {{
          location.replace(chapter + ".html" + location.search + location.hash);
        }} else if (chapter) {{
          document.addEventListener("DOMContentLoaded", function () {{
            var p = document.getElementById("problem");
            p.textContent = "This link is for a chapter called \u201c" + chapter +
              "\u201d, which Deep End does not have. Its chapters are listed below.";
            p.hidden = false;
          }});
        }}
      }})();
    </script>
    <style>
      body {{ font: 16px/1.5 system-ui, sans-serif; max-width: 44rem; margin: 3rem auto; padding: 0 1rem; }}
      h1 {{ font-size: 1.6rem; margin-bottom: .25rem; }}
      ul {{ padding: 0; list-style: none; }}
      li {{ margin: .9rem 0; }}
      li a {{ font-weight: 600; font-size: 1.1rem; }}
      li span {{ display: block; opacity: .8; }}
      #problem {{ border-left: 4px solid #c33; padding: .5rem .75rem; background: rgba(200, 50, 50, .08); }}
    </style>
  </head>
  <body>
    <h1>Deep End</h1>
    <p>Distributed systems you can poke: deterministic simulations that you partition, crash,
    pause and rewind in your browser. Each chapter is a page of its own.</p>
    <p id="problem" role="alert" hidden></p>
    <ul data-chapters>
{items}    </ul>
  </body>
</html>
"#
    )
}

fn modified(path: &Path) -> Option<SystemTime> {
    fs::metadata(path).and_then(|m| m.modified()).ok()
}

fn collect_files(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            collect_files(&path, out)?;
        } else {
            out.push(path);
        }
    }
    Ok(())
}

/// Package names in `cargo tree --prefix none -f {p}` output ("serde v1.0.228 (*)" gives "serde").
fn package_names(tree: &str) -> impl Iterator<Item = &str> {
    tree.lines().filter_map(|line| line.split_whitespace().next())
}

/// Every version of package `name` in a Cargo.lock, in file order.
fn locked_versions(lock: &str, name: &str) -> Vec<String> {
    let mut versions = Vec::new();
    let mut wanted = false;
    for line in lock.lines().map(str::trim) {
        if line == "[[package]]" {
            wanted = false;
        } else if let Some(value) = line.strip_prefix("name = ") {
            wanted = value.trim_matches('"') == name;
        } else if let Some(value) = line.strip_prefix("version = ")
            && wanted
        {
            versions.push(value.trim_matches('"').to_string());
            wanted = false;
        }
    }
    versions
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locked_versions_reads_only_the_named_package() {
        let lock = r#"
version = 4

[[package]]
name = "wasm-bindgen-macro"
version = "0.2.130"

[[package]]
name = "wasm-bindgen"
version = "0.2.130"
source = "registry+https://github.com/rust-lang/crates.io-index"
dependencies = [
 "wasm-bindgen-macro",
]

[[package]]
name = "getrandom"
version = "0.2.17"

[[package]]
name = "getrandom"
version = "0.4.3"
"#;
        assert_eq!(locked_versions(lock, "wasm-bindgen"), ["0.2.130"]);
        assert_eq!(locked_versions(lock, "getrandom"), ["0.2.17", "0.4.3"]);
        assert!(locked_versions(lock, "yew").is_empty());
    }

    #[test]
    fn package_names_strip_versions_and_markers() {
        let tree = "deepend-core v0.1.0 (/w/crates/core)\nserde v1.0.228\nserde v1.0.228 (*)\n";
        assert_eq!(
            package_names(tree).collect::<Vec<_>>(),
            ["deepend-core", "serde", "serde"]
        );
    }

    #[test]
    fn show_quotes_arguments_a_shell_would_split() {
        let mut cmd = Command::new("cargo");
        cmd.args(["tree", "-f", "{p}", "two words"]);
        assert_eq!(show(&cmd), "cargo tree -f '{p}' 'two words'");
    }
}
