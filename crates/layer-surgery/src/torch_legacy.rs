//! The format `torch.save` wrote before PyTorch 1.6, and still writes with
//! `_use_new_zipfile_serialization=False`. Five pickles follow each other: the
//! magic number, the protocol version 1001, a dict of system facts, the object,
//! and the list of storage keys. Each listed storage follows as an int64
//! element count and its raw bytes.

use std::collections::HashMap;

use crate::error::{Error, Result};
use crate::format::ReadOptions;
use crate::pickle::{self, Obj, Origin, StorageRef, StorageSource, Unpickled};
use crate::torch_zip::swap_byte_order;
use crate::value::Value;

/// `torch.serialization.MAGIC_NUMBER`, 0x1950a86a20f9469cfc6c, as the
/// little-endian bytes the LONG1 opcode stores.
const MAGIC_NUMBER: [u8; 10] = [0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19];

/// Protocol version the legacy format records in its second pickle.
const PROTOCOL_VERSION: i64 = 1001;

/// Returns whether `data` starts like a legacy file, with a pickle of the magic number.
pub(crate) fn looks_legacy(data: &[u8]) -> bool {
    // PROTO n, LONG1 of 10 bytes, the magic number.
    data.len() >= 14
        && data[0] == 0x80
        && data[2] == 0x8a
        && data[3] == 10
        && data[4..14] == MAGIC_NUMBER
}

/// Reads a legacy `torch.save` file held in memory.
pub(crate) fn read(
    data: &[u8],
    origin: &str,
    budget: usize,
    options: &ReadOptions,
) -> Result<Value> {
    let strict = ReadOptions::default();
    let magic = run(data, 0, origin, "magic number", &strict)?;
    match &magic.objects[magic.root] {
        Obj::BigInt(bytes) if bytes[..] == MAGIC_NUMBER => {}
        _ => {
            return Err(Error::invalid_file(
                origin,
                "the first pickle is not PyTorch's magic number, so this is not a torch.save file",
            ));
        }
    }

    let protocol = run(data, magic.end, origin, "protocol version", &strict)?;
    match protocol.objects[protocol.root] {
        Obj::Int(PROTOCOL_VERSION) => {}
        Obj::Int(other) => {
            return Err(Error::unsupported(
                origin,
                format!("legacy protocol version {other}; only {PROTOCOL_VERSION} is read"),
            ));
        }
        _ => {
            return Err(Error::invalid_file(
                origin,
                "the protocol version is not an int",
            ));
        }
    }

    let system = run(data, protocol.end, origin, "system information", &strict)?;
    let big_endian = is_big_endian(&system);

    let object_part = format!("pickle at byte {}", system.end);
    let object = run(data, system.end, origin, &object_part, options)?;
    let keys = run(data, object.end, origin, "storage key list", &strict)?;
    let storages = read_storages(data, &object, &keys, big_endian, origin)?;

    let mut source = LegacyStorages { storages, origin };
    let origin = Origin {
        file: origin,
        part: &object_part,
    };
    pickle::to_value(&object, &mut source, budget, &origin)
}

fn run(
    data: &[u8],
    start: usize,
    origin: &str,
    part: &str,
    options: &ReadOptions,
) -> Result<Unpickled> {
    pickle::unpickle_with(data, start, options).map_err(|source| Error::Pickle {
        origin: origin.to_owned(),
        part: part.to_owned(),
        source,
    })
}

/// Reads `little_endian` from the system dict. Files without it are little-endian.
fn is_big_endian(system: &Unpickled) -> bool {
    let Obj::Dict(dict) = &system.objects[system.root] else {
        return false;
    };
    dict.entries.iter().any(|(key, value)| {
        *key == crate::value::DictKey::Str("little_endian".into())
            && matches!(system.objects[*value], Obj::Bool(false))
    })
}

/// Reads the storages in the order the key list names them.
fn read_storages(
    data: &[u8],
    object: &Unpickled,
    keys: &Unpickled,
    big_endian: bool,
    origin: &str,
) -> Result<HashMap<String, Vec<u8>>> {
    let Obj::List(key_ids) = &keys.objects[keys.root] else {
        return Err(Error::invalid_file(
            origin,
            "the storage key list is not a list",
        ));
    };
    let declared: HashMap<&str, &StorageRef> = object
        .storages
        .iter()
        .map(|storage| (storage.key.as_str(), storage))
        .collect();

    let mut position = keys.end;
    let mut storages = HashMap::new();
    for &key_id in key_ids {
        let Obj::Str(key) = &keys.objects[key_id] else {
            return Err(Error::invalid_file(origin, "a storage key is not a string"));
        };
        let storage = declared.get(key.as_str()).ok_or_else(|| {
            Error::invalid_file(origin, format!("storage '{key}' is listed but never used"))
        })?;
        let header = data.get(position..position + 8).ok_or_else(|| {
            Error::invalid_file(origin, format!("file ends before storage '{key}'"))
        })?;
        let mut count = [0u8; 8];
        count.copy_from_slice(header);
        let count = i64::from_le_bytes(count);
        if usize::try_from(count).ok() != Some(storage.numel) {
            return Err(Error::invalid_file(
                origin,
                format!(
                    "storage '{key}' records {count} elements, the pickle declares {}",
                    storage.numel
                ),
            ));
        }
        let start = position + 8;
        let end = start.saturating_add(storage.byte_len());
        let mut bytes = data
            .get(start..end)
            .ok_or_else(|| {
                Error::invalid_file(
                    origin,
                    format!(
                        "file ends inside storage '{key}' ({} bytes needed at byte {start})",
                        storage.byte_len()
                    ),
                )
            })?
            .to_vec();
        if big_endian {
            swap_byte_order(&mut bytes, storage.dtype.size());
        }
        storages.insert(key.clone(), bytes);
        position = end;
    }
    Ok(storages)
}

struct LegacyStorages<'a> {
    storages: HashMap<String, Vec<u8>>,
    origin: &'a str,
}

impl StorageSource for LegacyStorages<'_> {
    fn load(&mut self, storage: &StorageRef) -> Result<&[u8]> {
        self.storages
            .get(&storage.key)
            .map(Vec::as_slice)
            .ok_or_else(|| {
                Error::invalid_file(
                    self.origin,
                    format!(
                        "storage '{}' is used but not stored in the file",
                        storage.key
                    ),
                )
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Builds a legacy file of one tensor that views elements [1, 3) of a storage
    /// view starting at element 2 of a 6-element root storage.
    fn storage_view_file(numel_record: i64) -> Vec<u8> {
        let mut data = vec![0x80, 2, 0x8a, 10];
        data.extend_from_slice(&MAGIC_NUMBER);
        data.push(b'.');
        data.extend_from_slice(b"\x80\x02M\xe9\x03.");
        data.extend_from_slice(b"\x80\x02}X\x0d\x00\x00\x00little_endian\x88s.");
        data.extend_from_slice(
            b"\x80\x02ctorch._utils\n_rebuild_tensor_v2\n(\
              (X\x07\x00\x00\x00storagectorch\nFloatStorage\nX\x01\x00\x00\x007\
              X\x03\x00\x00\x00cpuK\x06(X\x02\x00\x00\x007vK\x02K\x03ttQ\
              K\x01K\x02\x85K\x01\x85\x89ccollections\nOrderedDict\n)RtR.",
        );
        data.extend_from_slice(b"\x80\x02]X\x01\x00\x00\x007a.");
        data.extend_from_slice(&numel_record.to_le_bytes());
        for value in 0..6 {
            data.extend_from_slice(&(value as f32).to_le_bytes());
        }
        data
    }

    #[test]
    fn storage_view_offsets_add_up() {
        let data = storage_view_file(6);
        assert!(looks_legacy(&data));
        let value = read(&data, "memory", 1 << 20, &ReadOptions::strict()).unwrap();
        assert_eq!(value.as_tensor().unwrap().to_f32_vec(), vec![3.0, 4.0]);
    }

    #[test]
    fn storage_count_must_match_pickle() {
        let error = read(
            &storage_view_file(5),
            "memory",
            1 << 20,
            &ReadOptions::strict(),
        )
        .unwrap_err();
        assert_eq!(
            error.to_string(),
            "memory: storage '7' records 5 elements, the pickle declares 6"
        );
    }
}
