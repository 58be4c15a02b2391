//! Reading checkpoints that pickle trainer objects, as the published reference
//! checkpoints do. The fixtures come from `xtask/scripts/make_foreign_checkpoint.py`.

use std::io::{Cursor, Read, Write};
use std::path::{Path, PathBuf};

use mixformer_layer_surgery::{
    AdamWState, Dict, FileFormat, ForeignObject, ReadOptions, Value, WeightsLocation, pth_bytes,
    read_safetensors, read_value, read_value_bytes, read_value_bytes_with, read_value_with,
    read_weights, read_weights_with,
};
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipArchive, ZipWriter};

const CHECKPOINT: &str = "foreign_objects.pth.tar";
const CHECKPOINT_PROTOCOL4: &str = "foreign_objects_protocol4.pth.tar";

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

fn lenient() -> ReadOptions {
    ReadOptions::allowing_foreign_objects()
}

fn read_lenient(name: &str) -> Value {
    let (format, value) = read_value_with(&fixture(name), &lenient()).unwrap();
    assert_eq!(format, FileFormat::TorchZip);
    value
}

fn entry<'a>(value: &'a Value, key: &str) -> &'a Value {
    value
        .as_dict()
        .and_then(|dict| dict.get(key))
        .unwrap_or_else(|| panic!("no entry `{key}` in {value:?}"))
}

fn object(value: &Value) -> &ForeignObject {
    value
        .as_object()
        .unwrap_or_else(|| panic!("expected a foreign object, found {value:?}"))
}

fn attribute<'a>(object: &'a ForeignObject, name: &str) -> &'a Value {
    object
        .attribute(name)
        .unwrap_or_else(|| panic!("{} has no attribute `{name}`", object.qualified_name()))
}

/// The zip entries of a fixture, in archive order.
fn zip_entries(path: &Path) -> Vec<(String, Vec<u8>)> {
    let bytes = std::fs::read(path).unwrap();
    let mut archive = ZipArchive::new(Cursor::new(bytes)).unwrap();
    (0..archive.len())
        .map(|index| {
            let mut file = archive.by_index(index).unwrap();
            let mut data = Vec::new();
            file.read_to_end(&mut data).unwrap();
            (file.name().unwrap().into_owned(), data)
        })
        .collect()
}

fn zip_archive(entries: &[(String, Vec<u8>)]) -> Vec<u8> {
    let mut zip = ZipWriter::new(Cursor::new(Vec::new()));
    for (name, data) in entries {
        let options = SimpleFileOptions::default().compression_method(CompressionMethod::Stored);
        zip.start_file(name.as_str(), options).unwrap();
        zip.write_all(data).unwrap();
    }
    zip.finish().unwrap().into_inner()
}

#[test]
fn strict_reader_rejects_trainer_objects() {
    let error = read_value(&fixture(CHECKPOINT)).unwrap_err().to_string();
    assert!(error.contains("foreign_objects.pth/data.pkl"), "{error}");
    assert!(
        error.contains("global `lib.train.admin.stats.AverageMeter` is not allowed"),
        "{error}"
    );
    assert!(error.contains("--allow-foreign-objects"), "{error}");
    let weights_error = read_weights(&fixture(CHECKPOINT)).unwrap_err().to_string();
    assert_eq!(weights_error, error);
}

#[test]
fn lenient_weights_equal_safetensors_copy() {
    let weights = read_weights_with(&fixture(CHECKPOINT), &lenient()).unwrap();
    let expected = read_safetensors(&fixture("foreign_objects.safetensors")).unwrap();
    assert_eq!(weights.location, WeightsLocation::Net);
    assert_eq!(weights.format, FileFormat::TorchZip);
    assert_eq!(weights.state_dict.len(), 9);
    assert_eq!(expected.len(), 9);
    for (name, tensor) in expected.iter() {
        let found = weights
            .state_dict
            .get(name)
            .unwrap_or_else(|| panic!("`{name}` is missing"));
        assert_eq!(found.shape(), tensor.shape(), "{name}");
        assert_eq!(found.to_f32_vec(), tensor.to_f32_vec(), "{name}");
    }
    assert_eq!(
        weights
            .state_dict
            .get("backbone.patch_embed.proj.weight")
            .map(|t| t.shape()),
        Some(&[4, 3, 2, 2][..])
    );
}

#[test]
fn plain_entries_and_optimizer_read() {
    let value = read_lenient(CHECKPOINT);
    assert_eq!(entry(&value, "epoch"), &Value::Int(3));
    assert_eq!(entry(&value, "net_type"), &Value::Str("MixFormer".into()));
    assert_eq!(
        entry(&value, "actor_type"),
        &Value::Str("MixFormerDistillStage1Actor".into())
    );
    assert_eq!(entry(&value, "constructor"), &Value::None);
    let optimizer = AdamWState::from_value(entry(&value, "optimizer"), CHECKPOINT).unwrap();
    let ids: Vec<i64> = optimizer.state.iter().map(|(id, _)| *id).collect();
    assert_eq!(ids, (0..9).collect::<Vec<i64>>());
    assert_eq!(optimizer.param_groups.len(), 1);
    assert_eq!(optimizer.param_groups[0].lr, 4e-4);
    assert_eq!(optimizer.param_groups[0].weight_decay, 1e-4);
    assert!(
        optimizer
            .state
            .iter()
            .all(|(_, parameter)| parameter.step == 1.0)
    );
}

#[test]
fn settings_placeholder_shows_class_and_state() {
    let value = read_lenient(CHECKPOINT);
    let settings = object(entry(&value, "settings"));
    assert_eq!(settings.module, "lib.train.admin.settings");
    assert_eq!(settings.name, "Settings");
    assert_eq!(settings.args, Some(Vec::new()));
    assert_eq!(
        attribute(settings, "script_name"),
        &Value::Str("mixformer2_vit".into())
    );
    assert_eq!(attribute(settings, "local_rank"), &Value::Int(-1));
    assert_eq!(
        attribute(settings, "signature"),
        &Value::Bytes(b"\x00\xffmixformer".to_vec())
    );

    // Nested objects
    let env = object(attribute(settings, "env"));
    assert_eq!(
        env.qualified_name(),
        "lib.train.admin.local.EnvironmentSettings"
    );
    assert_eq!(
        attribute(env, "lasot_dir"),
        &Value::Str("data/lasot".into())
    );
    let args = object(attribute(settings, "args"));
    assert_eq!(args.qualified_name(), "argparse.Namespace");
    assert_eq!(attribute(args, "nproc_per_node"), &Value::Int(8));
    let device = object(attribute(settings, "device"));
    assert_eq!(device.qualified_name(), "torch.device");
    assert_eq!(device.args, Some(vec![Value::Str("cpu".into())]));
    let frozen = object(attribute(settings, "frozen_layers"));
    assert_eq!(frozen.qualified_name(), "builtins.set");
    let [Value::List(items)] = frozen.args.as_deref().unwrap() else {
        panic!("set arguments: {:?}", frozen.args);
    };
    // A set pickles in its iteration order, so the items are compared sorted.
    let mut members: Vec<i64> = items.iter().filter_map(Value::as_int).collect();
    members.sort_unstable();
    assert_eq!(members, [0, 3, 6, 9]);

    // A dict subclass keeps its items, not a state.
    let cfg = object(attribute(settings, "cfg"));
    assert_eq!(cfg.qualified_name(), "lib.train.admin.settings.ConfigDict");
    assert_eq!(cfg.state, None);
    let train = object(cfg.dict_items.get("TRAIN").unwrap());
    assert_eq!(train.dict_items.get("EPOCH"), Some(&Value::Int(500)));
    assert_eq!(
        train.dict_items.get("REMOVE_LAYERS"),
        Some(&Value::List([0, 3, 6, 9].map(Value::Int).to_vec()))
    );
}

#[test]
fn stats_placeholders_keep_meter_values() {
    let value = read_lenient(CHECKPOINT);
    let train = entry(entry(&value, "stats"), "train");
    let iou = object(entry(train, "IoU"));
    assert_eq!(iou.qualified_name(), "lib.train.admin.stats.AverageMeter");
    assert_eq!(attribute(iou, "avg"), &Value::Float(0.625));
    assert_eq!(attribute(iou, "count"), &Value::Int(2));
    let lr = object(entry(train, "LearningRate/group0"));
    assert_eq!(lr.qualified_name(), "lib.train.admin.stats.StatValue");
    assert_eq!(
        attribute(lr, "history"),
        &Value::List(vec![Value::Float(4e-4)])
    );

    // numpy.float64(1.25) pickles as scalar(dtype('f8'), its eight bytes).
    let loss = object(entry(train, "Loss/total"));
    let scalar = object(attribute(loss, "avg"));
    assert_eq!(scalar.qualified_name(), "numpy._core.multiarray.scalar");
    let args = scalar.args.as_deref().unwrap();
    assert_eq!(object(&args[0]).qualified_name(), "numpy.dtype");
    assert_eq!(args[1], Value::Bytes(1.25f64.to_le_bytes().to_vec()));
}

#[test]
fn foreign_classes_counted_per_class() {
    let classes = read_lenient(CHECKPOINT).foreign_classes();
    let expected = [
        ("argparse.Namespace", 1),
        ("builtins.set", 1),
        ("lib.train.admin.local.EnvironmentSettings", 1),
        ("lib.train.admin.settings.ConfigDict", 3),
        ("lib.train.admin.settings.Settings", 1),
        ("lib.train.admin.stats.AverageMeter", 2),
        ("lib.train.admin.stats.StatValue", 1),
        ("numpy._core.multiarray.scalar", 3),
        ("numpy.dtype", 3),
        ("torch.device", 1),
    ];
    let found: Vec<(&str, usize)> = classes
        .iter()
        .map(|(name, count)| (name.as_str(), *count))
        .collect();
    assert_eq!(found, expected);
}

#[test]
fn protocols_2_and_4_read_alike() {
    assert_eq!(read_lenient(CHECKPOINT), read_lenient(CHECKPOINT_PROTOCOL4));
}

#[test]
fn placeholders_are_not_written() {
    let mut value = read_lenient(CHECKPOINT);
    let error = pth_bytes(&value).unwrap_err().to_string();
    assert!(
        error.contains("is a placeholder and cannot be written"),
        "{error}"
    );

    let removed = value.remove_foreign_objects();
    let paths: Vec<&str> = removed.iter().map(|(path, _)| path.as_str()).collect();
    assert_eq!(
        paths,
        [
            "stats.train.Loss/total",
            "stats.train.IoU",
            "stats.train.LearningRate/group0",
            "settings"
        ]
    );
    let written = pth_bytes(&value).unwrap();
    let (_, again) = read_value_bytes(&written).unwrap();
    assert_eq!(again, value);
    assert_eq!(entry(&again, "epoch"), &Value::Int(3));
    assert_eq!(
        entry(entry(&again, "stats"), "train"),
        &Value::Dict(Dict::ordered())
    );
}

#[test]
fn denied_globals_rejected_in_checkpoint() {
    let pickles: [(&[u8], &str); 3] = [
        (
            b"\x80\x02cos\nsystem\nX\x02\x00\x00\x00ls\x85R.",
            "os.system",
        ),
        (
            b"\x80\x02cbuiltins\neval\nX\x01\x00\x00\x001\x85R.",
            "builtins.eval",
        ),
        (
            b"\x80\x02csubprocess\nPopen\nX\x02\x00\x00\x00ls\x85R.",
            "subprocess.Popen",
        ),
    ];
    for (pickle, global) in pickles {
        let data = zip_archive(&[("archive/data.pkl".into(), pickle.to_vec())]);
        let error = read_value_bytes_with(&data, &lenient())
            .unwrap_err()
            .to_string();
        assert!(
            error.contains(&format!(
                "global `{global}` is not allowed, even with foreign objects allowed"
            )),
            "{error}"
        );
    }
}

#[test]
fn denied_global_inside_settings_is_rejected() {
    // The fixture with `argparse.Namespace` renamed to a same-length denied global.
    let mut entries = zip_entries(&fixture(CHECKPOINT));
    let pickle = &mut entries
        .iter_mut()
        .find(|(name, _)| name.ends_with("data.pkl"))
        .unwrap()
        .1;
    let original = b"cargparse\nNamespace\n";
    let position = pickle
        .windows(original.len())
        .position(|window| window == original)
        .unwrap();
    pickle[position..position + original.len()].copy_from_slice(b"cos\nsystem\n\n\n\n\n\n\n\n\n\n");
    let error = read_value_bytes_with(&zip_archive(&entries), &lenient())
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("global `os.system` is not allowed"),
        "{error}"
    );
}

#[test]
fn truncated_pickle_is_an_error_at_every_length() {
    let entries = zip_entries(&fixture(CHECKPOINT));
    let pickle_index = entries
        .iter()
        .position(|(name, _)| name.ends_with("data.pkl"))
        .unwrap();
    let full = entries[pickle_index].1.clone();
    let mut truncated = entries.clone();
    for end in 0..full.len() {
        truncated[pickle_index].1 = full[..end].to_vec();
        assert!(
            read_value_bytes_with(&zip_archive(&truncated), &lenient()).is_err(),
            "pickle prefix of {end} bytes was accepted"
        );
    }
}

#[test]
fn truncated_file_is_an_error() {
    let data = std::fs::read(fixture(CHECKPOINT)).unwrap();
    for end in (0..data.len()).step_by(97) {
        assert!(
            read_value_bytes_with(&data[..end], &lenient()).is_err(),
            "file prefix of {end} bytes was accepted"
        );
    }
}

#[test]
fn legacy_file_reads_foreign_objects() {
    // Magic number, protocol version, system dict, a `Settings` object and an empty key list.
    let mut data = b"\x80\x02\x8a\x0a\x6c\xfc\x9c\x46\xf9\x20\x6a\xa8\x50\x19.".to_vec();
    data.extend_from_slice(b"\x80\x02M\xe9\x03.");
    data.extend_from_slice(b"\x80\x02}.");
    data.extend_from_slice(
        b"\x80\x02clib.train.admin.settings\nSettings\n)\x81}X\x03\x00\x00\x00envK\x01sb.",
    );
    data.extend_from_slice(b"\x80\x02].");

    let strict = read_value_bytes(&data).unwrap_err().to_string();
    assert!(
        strict.contains("global `lib.train.admin.settings.Settings` is not allowed"),
        "{strict}"
    );
    let (format, value) = read_value_bytes_with(&data, &lenient()).unwrap();
    assert_eq!(format, FileFormat::TorchLegacy);
    let settings = object(&value);
    assert_eq!(
        settings.qualified_name(),
        "lib.train.admin.settings.Settings"
    );
    assert_eq!(attribute(settings, "env"), &Value::Int(1));
}
