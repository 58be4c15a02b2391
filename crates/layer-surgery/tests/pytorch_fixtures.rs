//! Reads the files `xtask/scripts/make_surgery_fixture.py` wrote with PyTorch.

use std::path::{Path, PathBuf};

use mixformer_layer_surgery::surgery::{
    compare, remove_blocks, remove_layers, strip_module_prefix,
};
use mixformer_layer_surgery::{
    AdamWState, Checkpoint, DType, DictKey, FileFormat, StateDict, Tensor, Value, WeightsLocation,
    read_safetensors, read_value, read_weights, write_pth, write_safetensors,
};

/// Old block indices that stay after removing blocks 0, 3, 6 and 9 of 12, in their new order.
const KEPT_BLOCKS: [usize; 8] = [1, 2, 4, 5, 7, 8, 10, 11];

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

fn block_key_suffixes(state_dict: &StateDict, block: usize) -> Vec<String> {
    let prefix = format!("backbone.blocks.{block}.");
    state_dict
        .names()
        .filter_map(|name| name.strip_prefix(&prefix).map(str::to_owned))
        .collect()
}

fn assert_renumbered_blocks(original: &StateDict, pruned: &StateDict) {
    for (new_index, old_index) in KEPT_BLOCKS.iter().enumerate() {
        let suffixes = block_key_suffixes(original, *old_index);
        assert_eq!(suffixes.len(), 12, "block {old_index} has 12 tensors");
        assert_eq!(block_key_suffixes(pruned, new_index), suffixes);
        for suffix in &suffixes {
            let old = original
                .get(&format!("backbone.blocks.{old_index}.{suffix}"))
                .unwrap();
            let new = pruned
                .get(&format!("backbone.blocks.{new_index}.{suffix}"))
                .unwrap();
            assert_eq!(
                new, old,
                "blocks.{new_index}.{suffix} is old blocks.{old_index}"
            );
        }
    }
    assert!(block_key_suffixes(pruned, 8).is_empty());
}

#[test]
fn removing_layers_keeps_values_of_remaining_blocks() {
    let weights = read_weights(&fixture("blocks12.pth.tar")).unwrap();
    assert_eq!(weights.format, FileFormat::TorchZip);
    assert_eq!(weights.location, WeightsLocation::Net);
    let original = weights.state_dict;
    // 12 tensors per block, then patch embedding 2, token tables 4, box head 8, score head 4.
    assert_eq!(original.len(), 12 * 12 + 18);

    let (pruned, report) = remove_layers(&original, &[0, 3, 6, 9]).unwrap();
    assert_renumbered_blocks(&original, &pruned);
    assert_eq!(pruned.len(), 8 * 12 + 16);
    assert_eq!(report.dropped.len(), 4 * 12 + 2);
    assert!(report.dropped.contains(&"backbone.pos_embed_t".to_string()));
    assert!(report.dropped.contains(&"backbone.pos_embed_s".to_string()));
    assert!(report.unplaced.is_empty());
    for kept in [
        "backbone.reg_tokens",
        "backbone.pos_embed_reg",
        "score_head.layers.1.bias",
    ] {
        assert_eq!(pruned.get(kept), original.get(kept), "{kept}");
    }
}

#[test]
fn module_prefixed_copy_gives_same_surgery() {
    let plain = read_weights(&fixture("blocks12.pth.tar")).unwrap();
    let prefixed = read_weights(&fixture("blocks12_module.pth.tar")).unwrap();
    assert_eq!(prefixed.prefix_report.renamed.len(), 12 * 12 + 18);
    assert_eq!(prefixed.state_dict, plain.state_dict);

    // Surgery also finds the blocks behind the prefix, before it is stripped.
    let (_, raw) = read_value(&fixture("blocks12_module.pth.tar")).unwrap();
    let raw_net = StateDict::from_value(raw.as_dict().unwrap().get("net").unwrap(), "raw").unwrap();
    assert!(raw_net.contains("module.backbone.blocks.11.mlp.fc2.bias"));
    let (pruned_raw, _) = remove_blocks(&raw_net, &[0, 3, 6, 9]).unwrap();
    let (pruned_then_stripped, _) = strip_module_prefix(&pruned_raw).unwrap();
    let (pruned_plain, _) = remove_blocks(&plain.state_dict, &[0, 3, 6, 9]).unwrap();
    assert_eq!(pruned_then_stripped, pruned_plain);
    assert_renumbered_blocks(&plain.state_dict, &pruned_plain);
}

fn views_and_plain(path: &Path) -> (Value, Value) {
    let (_, value) = read_value(path).unwrap();
    let dict = value.as_dict().unwrap();
    (
        dict.get("views").unwrap().clone(),
        dict.get("plain").unwrap().clone(),
    )
}

fn assert_views_match_plain(path: &Path, expected_count: usize) {
    let (views, plain) = views_and_plain(path);
    let views = views.as_dict().unwrap();
    let plain = plain.as_dict().unwrap();
    assert_eq!(views.len(), expected_count, "{}", path.display());
    for (key, view) in views.iter() {
        let copy = plain.get_key(key).unwrap();
        assert_eq!(view, copy, "{} {key}", path.display());
    }
}

#[test]
fn strided_views_equal_contiguous_copies() {
    assert_views_match_plain(&fixture("views.pth"), 18);
    assert_views_match_plain(&fixture("views_legacy.pth"), 18);
    assert_views_match_plain(&fixture("views_protocol4.pth"), 3);
}

#[test]
fn view_shapes_and_values_are_read() {
    let (views, _) = views_and_plain(&fixture("views.pth"));
    let views = views.as_dict().unwrap();
    let tensor = |name: &str| views.get(name).unwrap().as_tensor().unwrap().clone();

    assert_eq!(tensor("transposed").shape(), &[5, 3]);
    assert_eq!(tensor("block").shape(), &[2, 3]);
    assert_eq!(tensor("every_other_column").shape(), &[4, 3]);
    assert_eq!(tensor("expanded").to_f32_vec(), vec![1.5; 6]);
    assert_eq!(tensor("half_transposed").dtype(), DType::F16);
    assert_eq!(tensor("bfloat16").dtype(), DType::BF16);
    assert_eq!(tensor("float64").dtype(), DType::F64);
    assert_eq!(
        tensor("int64").to_vec::<i64>().unwrap(),
        vec![-(1 << 40), 0, 7]
    );
    assert_eq!(tensor("int32").to_vec::<i32>().unwrap(), vec![1, -2, 3, -4]);
    assert_eq!(tensor("int16").to_vec::<i16>().unwrap(), vec![-300, 300]);
    assert_eq!(tensor("int8").to_vec::<i8>().unwrap(), vec![-128, 127]);
    assert_eq!(tensor("uint8").to_vec::<u8>().unwrap(), vec![0, 200, 255]);
    assert_eq!(
        tensor("bool").to_vec::<bool>().unwrap(),
        vec![true, false, true]
    );
    assert_eq!(tensor("scalar").shape(), &[] as &[usize]);
    assert_eq!(tensor("scalar").item(), Some(3.5));
    assert_eq!(tensor("empty").shape(), &[0, 3]);
    assert_eq!(tensor("empty").numel(), 0);

    // The two halves of one storage are disjoint and together hold 8 values.
    let first = tensor("shared_a").to_f32_vec();
    let second = tensor("shared_b").to_f32_vec();
    assert_eq!(first.len() + second.len(), 8);
    assert_ne!(first, second);
}

#[test]
fn pytorch_adamw_state_is_read() {
    let (_, value) = read_value(&fixture("views.pth")).unwrap();
    let optimizer = value.as_dict().unwrap().get("optimizer").unwrap();
    let state = AdamWState::from_value(optimizer, "views.pth").unwrap();

    assert_eq!(state.state.len(), 2);
    let (id, weight) = &state.state[0];
    assert_eq!(*id, 0);
    assert_eq!(weight.step, 2.0);
    assert_eq!(weight.exp_avg.shape(), &[2, 3]);
    assert_eq!(weight.exp_avg_sq.shape(), &[2, 3]);
    assert_eq!(state.state[1].1.exp_avg.shape(), &[2]);

    assert_eq!(state.param_groups.len(), 1);
    let group = &state.param_groups[0];
    // Two StepLR steps with gamma 0.1 from 4e-4.
    assert!((group.lr - 4e-6).abs() < 1e-18, "{}", group.lr);
    assert_eq!(group.initial_lr, Some(4e-4));
    assert_eq!(group.betas, (0.9, 0.999));
    assert_eq!(group.eps, 1e-8);
    assert_eq!(group.weight_decay, 1e-4);
    assert_eq!(group.params, vec![0, 1]);
}

#[test]
fn nested_python_values_are_read() {
    for name in ["views.pth", "views_legacy.pth", "views_protocol4.pth"] {
        let (_, value) = read_value(&fixture(name)).unwrap();
        let nested = value
            .as_dict()
            .unwrap()
            .get("nested")
            .unwrap()
            .as_dict()
            .unwrap();
        assert_eq!(
            nested.get("list").unwrap(),
            &Value::List(vec![
                Value::Int(1),
                Value::Float(2.5),
                Value::Str("text".into()),
                Value::None,
                Value::Bool(true)
            ]),
            "{name}"
        );
        assert_eq!(
            nested.get("tuple").unwrap(),
            &Value::Tuple(vec![
                Value::Int(1),
                Value::Tuple(vec![Value::Int(2), Value::Int(3)])
            ])
        );
        assert_eq!(nested.get("bytes").unwrap(), &Value::Bytes(vec![0, 255]));
        let int_keys = nested.get("int_keys").unwrap().as_dict().unwrap();
        assert_eq!(
            int_keys.get_key(&DictKey::Int(7)),
            Some(&Value::Str("seven".into()))
        );
        assert_eq!(nested.get("big").unwrap(), &Value::Int(1 << 40));
        assert_eq!(nested.get("negative").unwrap(), &Value::Int(-5));
    }
}

#[test]
fn legacy_file_is_detected() {
    let (format, _) = read_value(&fixture("views_legacy.pth")).unwrap();
    assert_eq!(format, FileFormat::TorchLegacy);
}

#[test]
fn checkpoint_entries_are_read() {
    let checkpoint = Checkpoint::read(&fixture("blocks12.pth.tar")).unwrap();
    assert_eq!(checkpoint.epoch, 40);
    assert_eq!(checkpoint.net_type, "MixFormer");
    assert_eq!(checkpoint.actor_type, "MixFormerDistillStage2Actor");
    assert_eq!(
        checkpoint.stats,
        vec![("Loss/total".to_string(), 1.25), ("IoU".to_string(), 0.5)]
    );
    let settings = checkpoint.settings.to_json().unwrap();
    assert_eq!(
        settings["TRAIN"]["REMOVE_LAYERS"],
        serde_json::json!([0, 3, 6, 9])
    );
    assert_eq!(checkpoint.optimizer, Value::None);
}

#[test]
fn safetensors_fixture_equals_pth_weights() {
    let from_pth = read_weights(&fixture("blocks12.pth.tar"))
        .unwrap()
        .state_dict;
    let from_safetensors = read_safetensors(&fixture("blocks12.safetensors")).unwrap();
    assert!(compare(&from_pth, &from_safetensors).is_within(0.0));
}

#[test]
fn pth_safetensors_pth_round_trip_keeps_values() {
    let folder = tempfile::tempdir().unwrap();
    let original = read_weights(&fixture("blocks12.pth.tar"))
        .unwrap()
        .state_dict;

    let safetensors_path = folder.path().join("weights.safetensors");
    write_safetensors(&safetensors_path, &original).unwrap();
    let through_safetensors = read_safetensors(&safetensors_path).unwrap();

    let pth_path = folder.path().join("weights.pth");
    write_pth(
        &pth_path,
        &Value::Dict(
            mixformer_layer_surgery::Dict::new().with("net", through_safetensors.to_value()),
        ),
    )
    .unwrap();
    let back = read_weights(&pth_path).unwrap().state_dict;

    let diff = compare(&original, &back);
    assert!(
        diff.missing.is_empty() && diff.unexpected.is_empty(),
        "{diff:?}"
    );
    assert!(diff.is_within(0.0), "{diff:?}");
    for (name, tensor) in original.iter() {
        assert_eq!(back.get(name), Some(tensor), "{name}");
    }
}

#[test]
fn whole_checkpoint_value_round_trips() {
    let folder = tempfile::tempdir().unwrap();
    for name in ["views.pth", "views_legacy.pth", "blocks12.pth.tar"] {
        let (_, value) = read_value(&fixture(name)).unwrap();
        let path = folder.path().join(name);
        write_pth(&path, &value).unwrap();
        let (format, back) = read_value(&path).unwrap();
        assert_eq!(format, FileFormat::TorchZip);
        assert_eq!(back, value, "{name}");
    }
}

#[test]
fn tensor_from_f32_matches_read_values() {
    let weights = read_weights(&fixture("blocks12.pth.tar"))
        .unwrap()
        .state_dict;
    let tensor = weights.get("backbone.blocks.0.attn.qkv.weight").unwrap();
    assert_eq!(tensor.shape(), &[6, 2]);
    let rebuilt = Tensor::from_f32(vec![6, 2], &tensor.to_f32_vec()).unwrap();
    assert_eq!(&rebuilt, tensor);
}
