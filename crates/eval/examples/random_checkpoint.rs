//! Writes a checkpoint with random weights for an experiment, to try `eval`
//! before a trained checkpoint exists:
//!
//! ```text
//! cargo run -p mixformer-eval --example random_checkpoint -- \
//!     mixformer2_vit_online experiments/mixformer2_vit_online/tiny_depth2_score.yaml tiny.safetensors
//! ```
//!
//! The boxes such a model predicts are meaningless; the files it produces
//! exercise the tracking and analysis pipeline.

use std::path::Path;
use std::process::ExitCode;

use burn::tensor::Device;
use mixformer_config::{ExperimentConfig, Script};
use mixformer_model_vit::{MixFormer, VitConfig, save_safetensors};

fn main() -> ExitCode {
    let arguments: Vec<String> = std::env::args().skip(1).collect();
    let [script, config, output] = arguments.as_slice() else {
        eprintln!("usage: random_checkpoint SCRIPT EXPERIMENT_FILE OUTPUT.safetensors");
        return ExitCode::FAILURE;
    };
    match write(script, config, Path::new(output)) {
        Ok(()) => {
            println!("wrote {output}");
            ExitCode::SUCCESS
        }
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

fn write(script: &str, config: &str, output: &Path) -> Result<(), String> {
    let script: Script = script.parse().map_err(|error| format!("{error}"))?;
    let config = ExperimentConfig::load(script, config).map_err(|error| error.to_string())?;
    let architecture = VitConfig::from(&config.architecture());
    let model =
        MixFormer::new(&architecture, &Device::flex()).map_err(|error| error.to_string())?;
    save_safetensors(&model, output).map_err(|error| error.to_string())
}
