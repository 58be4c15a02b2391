//! Writes a small training checkpoint with an AdamW state, and its weights as
//! safetensors, so that `xtask/scripts/check_torch_load.py` can load them with
//! PyTorch:
//!
//! ```text
//! cargo run -p mixformer-layer-surgery --example write_sample_checkpoint -- \
//!     sample/MixFormer_ep0003.pth.tar sample/MixFormer_ep0003.safetensors
//! ```

use std::path::PathBuf;
use std::process::ExitCode;

use mixformer_layer_surgery::{
    AdamWGroup, AdamWParameterState, AdamWState, Checkpoint, StateDict, Tensor, Value,
};

/// Parameter names and shapes of a one-block backbone with embedding 4.
const PARAMETERS: [(&str, &[usize]); 6] = [
    ("backbone.blocks.0.norm1.weight", &[4]),
    ("backbone.blocks.0.attn.qkv.weight", &[12, 4]),
    ("backbone.blocks.0.attn.qkv.bias", &[12]),
    ("backbone.blocks.0.mlp.fc1.weight", &[16, 4]),
    ("box_head.layers.1.0.weight", &[6, 4]),
    ("score_head.layers.1.bias", &[1]),
];

fn ramp(shape: &[usize], scale: f32) -> Tensor {
    let numel: usize = shape.iter().product();
    let values: Vec<f32> = (0..numel).map(|index| index as f32 * scale - 1.0).collect();
    Tensor::from_f32(shape.to_vec(), &values).expect("the values match the shape")
}

fn sample_checkpoint() -> Checkpoint {
    let net: StateDict = PARAMETERS
        .iter()
        .map(|(name, shape)| (name.to_string(), ramp(shape, 0.01)))
        .collect();

    // Backbone parameters train at LR x BACKBONE_MULTIPLIER, the heads at LR.
    let state = PARAMETERS
        .iter()
        .enumerate()
        .map(|(id, (_, shape))| {
            let moments = AdamWParameterState {
                step: 3.0,
                exp_avg: ramp(shape, 1e-3),
                exp_avg_sq: ramp(shape, 1e-6),
            };
            (id as i64, moments)
        })
        .collect();
    let group = |lr: f64, ids: std::ops::Range<usize>| AdamWGroup {
        lr,
        initial_lr: Some(lr),
        betas: (0.9, 0.999),
        eps: 1e-8,
        weight_decay: 1e-4,
        amsgrad: false,
        params: ids.clone().map(|id| id as i64).collect(),
        param_names: ids.map(|id| PARAMETERS[id].0.to_string()).collect(),
    };
    let optimizer = AdamWState {
        state,
        param_groups: vec![group(4e-5, 0..4), group(4e-4, 4..6)],
    };

    Checkpoint {
        epoch: 3,
        net_type: "MixFormer".into(),
        actor_type: "MixFormerDistillStage1Actor".into(),
        net,
        optimizer: optimizer.to_value(),
        stats: vec![("Loss/total".into(), 1.5), ("IoU".into(), 0.625)],
        settings: Value::from_json(&serde_json::json!({
            "TRAIN": {"EPOCH": 500, "LR": 0.0004, "BACKBONE_MULTIPLIER": 0.1},
            "MODEL": {"BACKBONE": {"DEPTH": 12}}
        })),
    }
}

fn main() -> ExitCode {
    let paths: Vec<PathBuf> = std::env::args_os().skip(1).map(PathBuf::from).collect();
    let [checkpoint_path, safetensors_path] = paths.as_slice() else {
        eprintln!("usage: write_sample_checkpoint CHECKPOINT.pth.tar WEIGHTS.safetensors");
        return ExitCode::FAILURE;
    };
    let checkpoint = sample_checkpoint();
    let result = checkpoint
        .write(checkpoint_path)
        .and_then(|()| checkpoint.write_weights_safetensors(safetensors_path));
    match result {
        Ok(()) => {
            println!(
                "wrote {} and {}",
                checkpoint_path.display(),
                safetensors_path.display()
            );
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}
