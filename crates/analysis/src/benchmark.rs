//! Benchmarks by name: which result layout they use and which metrics they report.

use std::fmt;
use std::str::FromStr;

use crate::error::AnalysisError;
use crate::layout::ResultLayout;

/// A tracking benchmark whose results this crate reads and writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Benchmark {
    Got10k,
    Lasot,
    Otb,
    Uav123,
    TrackingNet,
    /// Any other dataset evaluated with OPE on one file per sequence.
    Other,
}

impl Benchmark {
    pub const ALL: [Benchmark; 6] = [
        Self::Got10k,
        Self::Lasot,
        Self::Otb,
        Self::Uav123,
        Self::TrackingNet,
        Self::Other,
    ];

    /// Lower-case name used on the command line and in configuration files.
    pub fn key(self) -> &'static str {
        match self {
            Self::Got10k => "got10k",
            Self::Lasot => "lasot",
            Self::Otb => "otb",
            Self::Uav123 => "uav123",
            Self::TrackingNet => "trackingnet",
            Self::Other => "other",
        }
    }

    pub fn result_layout(self) -> ResultLayout {
        match self {
            Self::Got10k => ResultLayout::Got10k,
            _ => ResultLayout::SequenceFile,
        }
    }

    /// Checks whether the benchmark reports GOT-10k's AO, SR0.5 and SR0.75
    /// beside the OPE metrics.
    pub fn reports_got10k_metrics(self) -> bool {
        self == Self::Got10k
    }
}

impl fmt::Display for Benchmark {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match self {
            Self::Got10k => "GOT-10k",
            Self::Lasot => "LaSOT",
            Self::Otb => "OTB",
            Self::Uav123 => "UAV123",
            Self::TrackingNet => "TrackingNet",
            Self::Other => "other",
        };
        formatter.write_str(name)
    }
}

impl FromStr for Benchmark {
    type Err = AnalysisError;

    /// Parses a benchmark key, ignoring case, `-` and `_` (`GOT-10k`, `got10k`).
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let key: String = text
            .chars()
            .filter(|c| *c != '-' && *c != '_')
            .collect::<String>()
            .to_lowercase();
        Self::ALL
            .into_iter()
            .find(|benchmark| benchmark.key() == key)
            .ok_or_else(|| AnalysisError::UnknownBenchmark {
                name: text.to_string(),
                expected: Self::ALL.map(Benchmark::key).join(", "),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_parse_loosely() {
        assert_eq!("GOT-10k".parse::<Benchmark>().unwrap(), Benchmark::Got10k);
        assert_eq!("LaSOT".parse::<Benchmark>().unwrap(), Benchmark::Lasot);
        assert_eq!(
            "tracking_net".parse::<Benchmark>().unwrap(),
            Benchmark::TrackingNet
        );
    }

    #[test]
    fn unknown_name_lists_choices() {
        let error = "vot".parse::<Benchmark>().unwrap_err();

        assert_eq!(
            error.to_string(),
            "unknown benchmark \"vot\"; expected one of got10k, lasot, otb, uav123, \
             trackingnet, other"
        );
    }

    #[test]
    fn only_got10k_uses_got10k_layout() {
        for benchmark in Benchmark::ALL {
            let is_got10k = benchmark == Benchmark::Got10k;

            assert_eq!(benchmark.result_layout() == ResultLayout::Got10k, is_got10k);
            assert_eq!(benchmark.reports_got10k_metrics(), is_got10k);
        }
    }
}
