//! Where the log lines go: stdout, the experiment's log file and, on a
//! terminal, a progress bar on stderr.

use std::fs::{self, File, OpenOptions};
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

use indicatif::{ProgressBar, ProgressStyle};

use crate::TrainError;

/// The log of one experiment, `<save_dir>/logs/<script>-<config>.log`, appended to.
pub struct Logbook {
    path: PathBuf,
    file: File,
    bar: Option<ProgressBar>,
    show_progress: bool,
}

impl Logbook {
    /// Opens (or creates) the log file of `script` and `config` under `save_dir`.
    pub fn open(
        save_dir: &Path,
        script: &str,
        config: &str,
        show_progress: bool,
    ) -> Result<Self, TrainError> {
        let directory = save_dir.join("logs");
        let path = directory.join(format!("{script}-{config}.log"));
        let fail = |source| TrainError::Log {
            path: path.clone(),
            source,
        };
        fs::create_dir_all(&directory).map_err(fail)?;
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .map_err(fail)?;
        Ok(Self {
            path,
            file,
            bar: None,
            show_progress: show_progress && std::io::stderr().is_terminal(),
        })
    }

    /// The log file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Writes a line to stdout and to the log file.
    pub fn line(&mut self, line: &str) -> Result<(), TrainError> {
        match &self.bar {
            Some(bar) => bar.suspend(|| println!("{line}")),
            None => println!("{line}"),
        }
        writeln!(self.file, "{line}").map_err(|source| TrainError::Log {
            path: self.path.clone(),
            source,
        })
    }

    /// Starts a progress bar of `steps` steps, when stderr is a terminal.
    pub fn start_bar(&mut self, phase: &str, epoch: usize, steps: usize) {
        if !self.show_progress {
            return;
        }
        let bar = ProgressBar::new(steps as u64);
        if let Ok(style) =
            ProgressStyle::with_template("{prefix} [{bar:30}] {pos}/{len} {elapsed}<{eta}")
        {
            bar.set_style(style.progress_chars("=> "));
        }
        bar.set_prefix(format!("{phase} {epoch}"));
        self.bar = Some(bar);
    }

    /// Advances the progress bar by one step.
    pub fn tick(&self) {
        if let Some(bar) = &self.bar {
            bar.inc(1);
        }
    }

    /// Removes the progress bar.
    pub fn finish_bar(&mut self) {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
    }
}
