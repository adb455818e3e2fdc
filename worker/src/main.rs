//! The `paperchart` command line.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

use paperchart::cmd;
use paperchart_core::config::{Config, SinkKind};

/// mimalloc rather than the system allocator: the NLP makes many small, short-lived strings per
/// document, and glibc's malloc spent a third of `paperchart nlp extract`'s time on them (perf,
/// see README "NLP accuracy").
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "paperchart",
    version,
    about = "Scanned medical records (PDF, TIFF, PNG, JPEG) to FHIR R4",
    long_about = "Scanned medical records (PDF, TIFF, PNG, JPEG) to FHIR R4.\n\n\
        Each document is read (PDF text layers as they are, everything else by OCR), its clinical \
        facts are found and coded (ICD-10-CM, SNOMED CT, RxNorm, LOINC, UCUM), and it is written \
        as one FHIR R4 transaction Bundle: Patient, DocumentReference, Conditions, \
        MedicationStatements, Observations, AllergyIntolerances, Procedures, \
        FamilyMemberHistory and a Provenance.\n\n\
        Configuration: built-in defaults, then --config FILE (TOML), then PAPERCHART__SECTION__KEY \
        environment variables, then flags. `paperchart config` prints the result."
)]
struct Cli {
    /// TOML configuration file.
    #[arg(long, global = true, env = "PAPERCHART_CONFIG")]
    config: Option<PathBuf>,

    /// Log format on standard error.
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Json)]
    log_format: LogFormat,

    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, ValueEnum)]
enum LogFormat {
    Json,
    Text,
}

#[derive(Clone, Copy, ValueEnum)]
enum SinkArg {
    /// Transaction Bundles and NDJSON in the output folder.
    Dir,
    /// Transaction Bundles POSTed to a FHIR R4 server (--fhir-url).
    Fhir,
    /// Amazon HealthLake's FHIR API (--fhir-url is the datastore endpoint), signed with SigV4.
    Healthlake,
    /// Bulk import mode: NDJSON staged in the fleet's work bucket for paperchart-scheduler.
    Staging,
}

#[derive(clap::Args)]
struct SinkArgs {
    /// Output folder: bundles/, ndjson/, summary.json, dead-letter.ndjson [default: sink.dir,
    /// `paperchart-out`].
    #[arg(long, short)]
    out: Option<PathBuf>,
    /// Where the FHIR goes [default: sink.kind, `dir`].
    #[arg(long, value_enum)]
    sink: Option<SinkArg>,
    /// FHIR R4 base URL for --sink fhir, e.g. http://127.0.0.1:8080/fhir.
    #[arg(long)]
    fhir_url: Option<String>,
    /// Bearer token for the FHIR server.
    #[arg(long, env = "PAPERCHART_FHIR_TOKEN", hide_env_values = true)]
    bearer_token: Option<String>,
    /// Documents in flight at once [default: worker.concurrency, one per core].
    #[arg(long)]
    concurrency: Option<usize>,
    /// Write de-identified FHIR: PHI replaced by consistent surrogates in the text and every
    /// resource, marked in meta.security [default: fhir.deidentify].
    #[arg(long)]
    deidentify: bool,
}

#[derive(Subcommand)]
enum Command {
    /// Process files and folders once and print a summary. Exits 0 only if every document succeeded.
    Run {
        /// Files or folders (walked recursively; hidden entries skipped).
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        #[command(flatten)]
        sink: SinkArgs,
        /// No progress bar.
        #[arg(long)]
        no_progress: bool,
    },
    /// Watch a folder and process every file dropped in it, until SIGINT or SIGTERM.
    Watch {
        /// The folder to watch.
        dir: PathBuf,
        #[command(flatten)]
        sink: SinkArgs,
        /// SQLite file of the durable queue [default: worker.queue_path, else <DIR>/.paperchart/queue.sqlite].
        #[arg(long)]
        queue: Option<PathBuf>,
    },
    /// The fleet worker on AWS: S3 upload events from the intake SQS queue, asynchronous
    /// Textract (or Tesseract), FHIR to HealthLake or any FHIR server, until SIGTERM.
    /// Configured by the [fleet], [aws] and [sink] sections (see README).
    Worker {
        #[command(flatten)]
        sink: SinkArgs,
    },
    /// Print what the reading stage makes of files: the document model (lines, words with boxes,
    /// key/value fields, tables, check boxes) and the document class, one JSON line per file.
    /// A `<file>.textract.json` beside a file is read as the fleet reads Textract's answer.
    /// Files are read side by side (as many as `ocr.threads`) and printed in the order named.
    Read {
        /// Files or folders.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
    },
    /// The NLP evaluation contract: JSON Lines on stdin, JSON Lines on stdout.
    Nlp {
        #[command(subcommand)]
        command: NlpCommand,
    },
    /// Print the effective configuration as TOML.
    Config,
    /// Exit 0 when an HTTP endpoint on this host answers 2xx within 3 s: the container health
    /// check (the image has no curl), e.g. `paperchart probe http://127.0.0.1:8081/readyz`.
    Probe { url: String },
}

#[derive(Subcommand)]
enum NlpCommand {
    /// {"id","text"} → {"id","entities":[…]} with character offsets.
    Extract,
    /// {"id","text","span":[start,end]} → {"id","negated","assertion"}.
    Assert,
}

impl Command {
    /// The sink flags of the commands that write FHIR.
    fn sink_args(&self) -> Option<&SinkArgs> {
        match self {
            Command::Run { sink, .. } | Command::Watch { sink, .. } | Command::Worker { sink } => Some(sink),
            Command::Nlp { .. } | Command::Read { .. } | Command::Config | Command::Probe { .. } => None,
        }
    }
}

fn apply(cfg: &mut Config, s: &SinkArgs) {
    if s.deidentify {
        cfg.fhir.deidentify = true;
    }
    if let Some(out) = &s.out {
        cfg.sink.dir = out.clone();
    }
    if let Some(kind) = s.sink {
        cfg.sink.kind = match kind {
            SinkArg::Dir => SinkKind::Dir,
            SinkArg::Fhir => SinkKind::Fhir,
            SinkArg::Healthlake => SinkKind::Healthlake,
            SinkArg::Staging => SinkKind::Staging,
        };
    }
    if let Some(url) = &s.fhir_url {
        cfg.sink.fhir_url = url.clone();
        if s.sink.is_none() {
            cfg.sink.kind = SinkKind::Fhir;
        }
    }
    if let Some(t) = &s.bearer_token {
        cfg.sink.bearer_token = t.clone();
    }
    if let Some(c) = s.concurrency {
        cfg.worker.concurrency = c;
    }
}

fn init_logs(format: LogFormat, default_level: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("PAPERCHART_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default_level));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    match format {
        LogFormat::Json => builder.json().flatten_event(true).with_current_span(false).init(),
        LogFormat::Text => builder.init(),
    }
}

/// Tesseract runs one engine per OCR thread; its own OpenMP threads on top cost three times the
/// time (measured: 1.7 s against 7.6 s for one page). libgomp reads `OMP_THREAD_LIMIT` when it is
/// loaded, before `main`, so setting the variable here is too late: the process starts itself
/// again with it set.
fn limit_openmp() {
    if std::env::var_os("OMP_THREAD_LIMIT").is_some() {
        return;
    }
    use std::os::unix::process::CommandExt;
    if let Ok(exe) = std::env::current_exe() {
        let err = std::process::Command::new(exe).args(std::env::args_os().skip(1)).env("OMP_THREAD_LIMIT", "1").exec();
        eprintln!("paperchart: cannot restart with OMP_THREAD_LIMIT=1 ({err}); OCR will be slower");
    }
}

/// Tesseract and Leptonica allocate through the C library's malloc, which hands every block of
/// 128 KiB or more straight back to the kernel when freed: a page's images and the recogniser's
/// buffers were mapped afresh, and zeroed by the kernel, for every page (5% of a clean page's
/// time in `perf`). Blocks up to 32 MiB (a letter page at 300 dpi is 8.4 MB; glibc refuses more
/// before 2.35) now stay in the process for the next page. When the threshold cannot be set the
/// trim threshold is left alone too: setting it alone would fix the mmap threshold at 128 KiB.
fn keep_c_heap() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets the allocator's thresholds; called before any thread starts.
    unsafe {
        if libc::mallopt(libc::M_MMAP_THRESHOLD, 32 << 20) == 1 {
            libc::mallopt(libc::M_TRIM_THRESHOLD, 128 << 20);
        }
    }
}

fn main() -> ExitCode {
    limit_openmp();
    keep_c_heap();
    let cli = Cli::parse();
    if let Command::Probe { url } = &cli.command {
        return match paperchart::health::probe(url, std::time::Duration::from_secs(3)) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("paperchart probe: {url}: {e}");
                ExitCode::from(1)
            }
        };
    }
    let level = match cli.command {
        Command::Watch { .. } | Command::Worker { .. } => "info",
        _ => "warn",
    };
    init_logs(cli.log_format, level);
    // File, environment, then the command's flags; checked once all are laid.
    let cfg = Config::layered(cli.config.as_deref(), std::env::vars()).and_then(|mut c| {
        if let Some(sink) = cli.command.sink_args() {
            apply(&mut c, sink);
        }
        c.validate().map(|()| c)
    });
    let mut cfg = match cfg {
        Ok(c) => c,
        Err(e) => {
            eprintln!("paperchart: {e}");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("paperchart: cannot start: {e}");
            return ExitCode::from(2);
        }
    };
    let result: anyhow::Result<bool> = runtime.block_on(async {
        match cli.command {
            Command::Run { paths, no_progress, .. } => {
                let progress = !no_progress && std::io::IsTerminal::is_terminal(&std::io::stderr());
                let out = cfg.sink.dir.clone();
                cmd::run::run(cfg, cmd::run::RunArgs { paths, out, progress }).await
            }
            Command::Watch { dir, queue, .. } => {
                let queue = queue
                    .or_else(|| Some(PathBuf::from(&cfg.worker.queue_path)).filter(|p| !p.as_os_str().is_empty()))
                    .unwrap_or_else(|| dir.join(".paperchart").join("queue.sqlite"));
                let out = cfg.sink.dir.clone();
                cmd::watch::watch(cfg, cmd::watch::WatchArgs { dir, out, queue }).await?;
                Ok(true)
            }
            Command::Worker { .. } => {
                #[cfg(feature = "fleet")]
                cmd::fleet::worker(cfg).await?;
                #[cfg(not(feature = "fleet"))]
                return Err(paperchart::app::needs_fleet("paperchart worker"));
                #[cfg(feature = "fleet")]
                Ok(true)
            }
            Command::Read { paths } => cmd::read::read(cfg, paths).await,
            Command::Nlp { command } => {
                let nlp_cfg = cfg.nlp.clone();
                tokio::task::spawn_blocking(move || -> anyhow::Result<bool> {
                    let engine = paperchart_nlp::Builtin::new(&nlp_cfg)?;
                    match command {
                        NlpCommand::Extract => cmd::nlp::stream(&engine, cmd::nlp::extract_line_text)?,
                        NlpCommand::Assert => cmd::nlp::stream(&engine, cmd::nlp::assert_line_text)?,
                    }
                    Ok(true)
                })
                .await?
            }
            Command::Probe { .. } => unreachable!("answered before start-up"),
            Command::Config => {
                if !cfg.sink.bearer_token.is_empty() {
                    cfg.sink.bearer_token = "(set, not shown)".into();
                }
                print!("{}", toml_of(&cfg)?);
                Ok(true)
            }
        }
    });
    match result {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(e) => {
            eprintln!("paperchart: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn toml_of(cfg: &Config) -> anyhow::Result<String> {
    Ok(toml::to_string_pretty(cfg)?)
}
