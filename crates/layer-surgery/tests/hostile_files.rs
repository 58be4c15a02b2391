//! Damaged and hostile files must give errors that name the problem, never
//! panics, hangs or huge allocations.

use std::io::{Cursor, Write};
use std::path::{Path, PathBuf};

use mixformer_layer_surgery::{
    Dict, Error, Tensor, Value, pth_bytes, read_value, read_value_bytes,
};
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipArchive, ZipWriter};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// Builds a zip archive of the given entries, stored or deflated.
fn zip_archive(entries: &[(&str, &[u8])], method: CompressionMethod) -> Vec<u8> {
    let mut zip = ZipWriter::new(Cursor::new(Vec::new()));
    for (name, data) in entries {
        let options = SimpleFileOptions::default().compression_method(method);
        zip.start_file(*name, options).unwrap();
        zip.write_all(data).unwrap();
    }
    zip.finish().unwrap().into_inner()
}

fn error_message(data: &[u8]) -> String {
    match read_value_bytes(data) {
        Ok((format, value)) => panic!("expected an error, read {format}: {value:?}"),
        Err(error) => error.to_string(),
    }
}

/// Protocol-2 pickle of `_rebuild_tensor_v2` over storage "0" of `numel` floats.
fn tensor_pickle(numel: u8, size: u8) -> Vec<u8> {
    let mut data = b"\x80\x02ctorch._utils\n_rebuild_tensor_v2\n((X\x07\x00\x00\x00storage\
        ctorch\nFloatStorage\nX\x01\x00\x00\x000X\x03\x00\x00\x00cpuK"
        .to_vec();
    data.extend_from_slice(&[
        numel, b't', b'Q', b'K', 0, b'K', size, 0x85, b'K', 1, 0x85, 0x89,
    ]);
    data.extend_from_slice(b"ccollections\nOrderedDict\n)RtR.");
    data
}

#[test]
fn os_system_inside_zip_is_rejected() {
    let pickle = b"\x80\x02cos\nsystem\nX\x02\x00\x00\x00ls\x85R.";
    let data = zip_archive(&[("archive/data.pkl", pickle)], CompressionMethod::Stored);
    let message = error_message(&data);
    assert!(message.contains("archive/data.pkl"), "{message}");
    assert!(
        message.contains("global `os.system` is not allowed"),
        "{message}"
    );
}

#[test]
fn builtins_eval_in_legacy_file_is_rejected() {
    // Magic number, protocol, system dict, then a pickle that calls eval.
    let mut data = b"\x80\x02\x8a\x0a\x6c\xfc\x9c\x46\xf9\x20\x6a\xa8\x50\x19.".to_vec();
    data.extend_from_slice(b"\x80\x02M\xe9\x03.");
    data.extend_from_slice(b"\x80\x02}.");
    data.extend_from_slice(b"\x80\x02cbuiltins\neval\nX\x01\x00\x00\x001\x85R.");
    let message = error_message(&data);
    assert!(
        message.contains("global `builtins.eval` is not allowed"),
        "{message}"
    );
}

#[test]
fn valid_tensor_pickle_reads_its_storage() {
    let storage: Vec<u8> = [1.0f32, 2.0, 3.0]
        .iter()
        .flat_map(|value| value.to_le_bytes())
        .collect();
    let data = zip_archive(
        &[
            ("archive/data.pkl", &tensor_pickle(3, 3)),
            ("archive/data/0", &storage),
        ],
        CompressionMethod::Stored,
    );
    let (_, value) = read_value_bytes(&data).unwrap();
    assert_eq!(value.as_tensor().unwrap().to_f32_vec(), vec![1.0, 2.0, 3.0]);
}

#[test]
fn big_endian_archive_is_converted() {
    let storage: Vec<u8> = [1.0f32, -2.0]
        .iter()
        .flat_map(|value| value.to_be_bytes())
        .collect();
    let data = zip_archive(
        &[
            ("archive/data.pkl", &tensor_pickle(2, 2)),
            ("archive/byteorder", b"big"),
            ("archive/data/0", &storage),
        ],
        CompressionMethod::Stored,
    );
    let (_, value) = read_value_bytes(&data).unwrap();
    assert_eq!(value.as_tensor().unwrap().to_f32_vec(), vec![1.0, -2.0]);
}

#[test]
fn tensor_larger_than_storage_is_rejected() {
    // The pickle declares 3 elements and the tensor reads 4.
    let storage = [0u8; 12];
    let data = zip_archive(
        &[
            ("archive/data.pkl", &tensor_pickle(3, 4)),
            ("archive/data/0", &storage),
        ],
        CompressionMethod::Stored,
    );
    let message = error_message(&data);
    assert!(
        message.contains("reads past the end of its storage of 3 elements"),
        "{message}"
    );
}

#[test]
fn storage_entry_shorter_than_declared_is_rejected() {
    let storage = [0u8; 8];
    let data = zip_archive(
        &[
            ("archive/data.pkl", &tensor_pickle(3, 3)),
            ("archive/data/0", &storage),
        ],
        CompressionMethod::Stored,
    );
    let message = error_message(&data);
    assert!(
        message.contains("entry `archive/data/0` holds 8 bytes, expected 12 from the pickle"),
        "{message}"
    );
}

#[test]
fn missing_storage_entry_is_named() {
    let data = zip_archive(
        &[("archive/data.pkl", &tensor_pickle(3, 3))],
        CompressionMethod::Stored,
    );
    let message = error_message(&data);
    assert!(
        message.contains("entry `archive/data/0` is missing"),
        "{message}"
    );
}

#[test]
fn compressed_entry_is_rejected() {
    let storage = [0u8; 12];
    let data = zip_archive(
        &[
            ("archive/data.pkl", &tensor_pickle(3, 3)),
            ("archive/data/0", &storage),
        ],
        CompressionMethod::Deflated,
    );
    let message = error_message(&data);
    assert!(message.contains("is compressed"), "{message}");
}

#[test]
fn zip_without_pickle_is_rejected() {
    let data = zip_archive(
        &[("weights/readme.txt", b"hello")],
        CompressionMethod::Stored,
    );
    let message = error_message(&data);
    assert!(message.contains("no `<name>/data.pkl` entry"), "{message}");
}

#[test]
fn tar_and_unknown_formats_are_explained() {
    let mut tar = vec![0u8; 1024];
    tar[257..262].copy_from_slice(b"ustar");
    assert!(error_message(&tar).contains("tar-format checkpoints"));
    assert!(error_message(b"hello world, not a checkpoint").contains("unknown format"));
    assert!(error_message(b"").contains("unknown format"));
    let plain_pickle = b"\x80\x02K\x01.";
    assert!(error_message(plain_pickle).contains("not a torch.save file"));
}

#[test]
fn huge_safetensors_header_is_rejected() {
    let mut data = u64::MAX.to_le_bytes().to_vec();
    data.extend_from_slice(b"{}");
    let message = error_message(&data);
    assert!(message.contains("invalid safetensors data"), "{message}");
}

#[test]
fn truncated_zip_fails_at_every_length() {
    let value = Value::Dict(
        Dict::new()
            .with(
                "net",
                Value::Tensor(Tensor::from_f32(vec![2], &[1.0, 2.0]).unwrap()),
            )
            .with("epoch", Value::Int(3)),
    );
    let data = pth_bytes(&value).unwrap();
    for end in 0..data.len() {
        assert!(
            read_value_bytes(&data[..end]).is_err(),
            "prefix of {end} bytes was accepted"
        );
    }
    assert_eq!(read_value_bytes(&data).unwrap().1, value);
}

#[test]
fn truncated_legacy_file_fails_at_every_length() {
    let data = std::fs::read(fixture("views_legacy.pth")).unwrap();
    for end in 0..data.len() {
        assert!(
            read_value_bytes(&data[..end]).is_err(),
            "prefix of {end} bytes was accepted"
        );
    }
}

/// Byte ranges of the data of the entries the reader uses: the pickle and the storages.
fn read_entry_ranges(data: &[u8]) -> Vec<(String, std::ops::Range<usize>)> {
    let mut archive = ZipArchive::new(Cursor::new(data)).unwrap();
    let mut ranges = Vec::new();
    for index in 0..archive.len() {
        let entry = archive.by_index(index).unwrap();
        let name = entry.name().unwrap().into_owned();
        if name.ends_with("/data.pkl") || name.contains("/data/") {
            let start = entry.data_start().unwrap() as usize;
            ranges.push((name, start..start + entry.compressed_size() as usize));
        }
    }
    ranges
}

#[test]
fn flipped_bytes_give_value_or_error() {
    // Corrupts each byte of a small PyTorch file in turn. Every result must be a
    // value or an error, and every corruption of the pickle or a storage must be
    // an error, because the reader checks each entry's CRC-32.
    let data = std::fs::read(fixture("views_protocol4.pth")).unwrap();
    let ranges = read_entry_ranges(&data);
    assert!(ranges.len() >= 4, "{ranges:?}");
    for position in 0..data.len() {
        let mut corrupted = data.clone();
        corrupted[position] ^= 0xff;
        let result = read_value_bytes(&corrupted);
        if let Some((name, _)) = ranges.iter().find(|(_, range)| range.contains(&position)) {
            assert!(
                result.is_err(),
                "flipping byte {position} of `{name}` was not detected"
            );
        }
    }
}

#[test]
fn missing_file_error_names_path() {
    let error = read_value(Path::new("no/such/checkpoint.pth")).unwrap_err();
    assert!(matches!(error, Error::Io { .. }));
    assert!(
        error
            .to_string()
            .starts_with("failed to open no/such/checkpoint.pth"),
        "{error}"
    );
}
