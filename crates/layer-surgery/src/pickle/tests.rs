//! Unit tests of the unpickler on hand-written and hostile pickles.

use super::objects::Obj;
use super::{
    PickleError, Pickled, StorageRef, StorageSource, Unpickled, pickle, to_value, unpickle,
};
use crate::error::{Error, Result};
use crate::tensor::Tensor;
use crate::value::{Dict, Value};

/// Storage bytes by key, as a zip archive would provide them.
struct MemoryStorages(Vec<(String, Vec<u8>)>);

impl StorageSource for MemoryStorages {
    fn load(&mut self, storage: &StorageRef) -> Result<&[u8]> {
        self.0
            .iter()
            .find(|(key, _)| *key == storage.key)
            .map(|(_, bytes)| bytes.as_slice())
            .ok_or_else(|| Error::invalid_file("memory", format!("no storage {}", storage.key)))
    }
}

fn origin() -> super::Origin<'static> {
    super::Origin {
        file: "memory",
        part: "data.pkl",
    }
}

fn load(data: &[u8], storages: Vec<(String, Vec<u8>)>) -> Result<Value> {
    let unpickled = unpickle(data, 0).map_err(|source| Error::Pickle {
        origin: "memory".into(),
        part: "data.pkl".into(),
        source,
    })?;
    to_value(
        &unpickled,
        &mut MemoryStorages(storages),
        1 << 20,
        &origin(),
    )
}

fn unpickle_error(data: &[u8]) -> PickleError {
    match unpickle(data, 0) {
        Err(error) => error,
        Ok(Unpickled { root, objects, .. }) => {
            panic!("expected an error, got {:?}", objects[root])
        }
    }
}

fn round_trip(value: &Value) -> Value {
    let Pickled { bytes, storages } = pickle(value).unwrap();
    let storages = storages
        .iter()
        .enumerate()
        .map(|(key, tensor)| (key.to_string(), tensor.data().to_vec()))
        .collect();
    load(&bytes, storages).unwrap()
}

#[test]
fn scalars_and_containers_round_trip() {
    let value = Value::Dict(
        Dict::new()
            .with("none", Value::None)
            .with(
                "flags",
                Value::List(vec![Value::Bool(true), Value::Bool(false)]),
            )
            .with(
                "ints",
                Value::Tuple(vec![
                    Value::Int(0),
                    Value::Int(255),
                    Value::Int(256),
                    Value::Int(65536),
                    Value::Int(-1),
                    Value::Int(i64::MAX),
                    Value::Int(i64::MIN),
                    Value::Int(1 << 40),
                ]),
            )
            .with("float", Value::Float(-0.125))
            .with("text", Value::Str("bloc ünïcode".into()))
            .with("bytes", Value::Bytes(vec![0, 127, 128, 255]))
            .with(
                3,
                Value::Dict(Dict::ordered().with("x", Value::Tuple(Vec::new()))),
            ),
    );
    assert_eq!(round_trip(&value), value);
}

#[test]
fn tensors_round_trip_with_every_dtype() {
    let tensors = vec![
        Tensor::from_values(vec![2, 3], &[1.0f32, 2.0, 3.0, 4.0, 5.0, 6.0]).unwrap(),
        Tensor::from_values(vec![2], &[1.5f64, -2.5]).unwrap(),
        Tensor::from_values(vec![1], &[half::f16::from_f32(0.5)]).unwrap(),
        Tensor::from_values(vec![1], &[half::bf16::from_f32(-4.0)]).unwrap(),
        Tensor::from_values(vec![2], &[i64::MIN, 7]).unwrap(),
        Tensor::from_values(vec![1, 1, 1, 1, 2], &[3i32, 4]).unwrap(),
        Tensor::from_values(vec![3], &[1u8, 2, 255]).unwrap(),
        Tensor::from_values(vec![2], &[true, false]).unwrap(),
        Tensor::from_values(vec![0, 3], &[] as &[f32]).unwrap(),
        Tensor::scalar(9.0f32),
    ];
    let value = Value::List(tensors.into_iter().map(Value::Tensor).collect());
    assert_eq!(round_trip(&value), value);
}

#[test]
fn global_os_system_is_rejected_by_name() {
    let data = b"\x80\x02cos\nsystem\nq\x00X\x02\x00\x00\x00ls\x85R.";
    let error = unpickle_error(data);
    assert_eq!(
        error,
        PickleError::ForbiddenGlobal {
            offset: 2,
            module: "os".into(),
            name: "system".into()
        }
    );
    assert!(
        error
            .to_string()
            .contains("global `os.system` is not allowed")
    );
}

#[test]
fn stack_global_builtins_eval_is_rejected() {
    let data = b"\x80\x04\x8c\x08builtins\x8c\x04eval\x93.";
    let error = unpickle_error(data);
    assert!(error.to_string().contains("`builtins.eval`"), "{error}");
}

#[test]
fn reduce_of_non_callable_is_rejected() {
    // A storage class from the allow-list is not callable, and neither is a string.
    let storage_call = b"\x80\x02ctorch\nFloatStorage\n)R.";
    let error = unpickle_error(storage_call);
    assert!(
        error
            .to_string()
            .contains("torch.FloatStorage cannot be called"),
        "{error}"
    );
    let string_call = b"\x80\x02X\x01\x00\x00\x00f)R.";
    let error = unpickle_error(string_call);
    assert!(error.to_string().contains("cannot call a str"), "{error}");
}

#[test]
fn object_building_opcodes_are_rejected() {
    let newobj = b"\x80\x02ccollections\nOrderedDict\n)\x81.";
    assert!(matches!(
        unpickle_error(newobj),
        PickleError::RejectedOpcode { name: "NEWOBJ", .. }
    ));
    let inst = b"(ios\nsystem\n.";
    assert!(matches!(
        unpickle_error(inst),
        PickleError::RejectedOpcode { name: "INST", .. }
    ));
    let set = b"\x80\x04\x8f.";
    assert!(matches!(
        unpickle_error(set),
        PickleError::RejectedOpcode {
            name: "EMPTY_SET",
            ..
        }
    ));
}

#[test]
fn huge_length_prefix_fails_without_allocating() {
    let data = b"\x80\x02X\xff\xff\xff\xffabc.";
    assert_eq!(
        unpickle_error(data),
        PickleError::Truncated {
            offset: 2,
            opcode: "BINUNICODE",
            needed: 0xffff_ffff - 4
        }
    );
    let data8 = b"\x80\x04\x8e\xff\xff\xff\xff\xff\xff\xff\xff.";
    assert!(matches!(
        unpickle_error(data8),
        PickleError::Truncated { .. }
    ));
}

#[test]
fn deep_nesting_is_rejected() {
    // 100 000 nested lists: EMPTY_LIST repeated, then APPEND each into the one below.
    let depth = 100_000;
    let mut data = vec![0x80, 2];
    data.extend(std::iter::repeat_n(b']', depth));
    data.extend(std::iter::repeat_n(b'a', depth - 1));
    data.push(b'.');
    let error = load(&data, Vec::new()).unwrap_err();
    assert!(
        error.to_string().contains("nested deeper than 128 levels"),
        "{error}"
    );
}

#[test]
fn deep_marks_are_rejected() {
    let mut data = vec![0x80, 2];
    data.extend(std::iter::repeat_n(b'(', 100_000));
    assert!(matches!(
        unpickle_error(&data),
        PickleError::LimitExceeded {
            what: "MARK nesting",
            ..
        }
    ));
}

#[test]
fn self_containing_list_is_rejected() {
    // x = []; x.append(x)
    let data = b"\x80\x02]q\x00h\x00a.";
    let error = load(data, Vec::new()).unwrap_err();
    assert!(error.to_string().contains("contain themselves"), "{error}");
}

#[test]
fn shared_references_cannot_expand_without_bound() {
    // Each level is a list holding the previous level twice: 2^60 leaves.
    let mut data = vec![0x80, 2, b'X', 4, 0, 0, 0, b'l', b'e', b'a', b'f', b'q', 0];
    for level in 0..60u8 {
        data.extend_from_slice(&[b'(', b'h', level, b'h', level, b'l', b'q', level + 1]);
    }
    data.push(b'.');
    let error = load(&data, Vec::new()).unwrap_err();
    assert!(
        error.to_string().contains("expand to far more data"),
        "{error}"
    );
}

#[test]
fn tensor_view_past_storage_end_is_rejected() {
    // _rebuild_tensor_v2(storage of 4 floats, offset 2, size (3,), stride (1,), False, OrderedDict())
    let data = b"\x80\x02ctorch._utils\n_rebuild_tensor_v2\n(\
        (X\x07\x00\x00\x00storagectorch\nFloatStorage\nX\x01\x00\x00\x000X\x03\x00\x00\x00cpuK\x04tQ\
        K\x02K\x03\x85K\x01\x85\x89ccollections\nOrderedDict\n)RtR.";
    let error = unpickle_error(data);
    assert!(
        error
            .to_string()
            .contains("reads past the end of its storage of 4 elements"),
        "{error}"
    );
}

#[test]
fn overflowing_tensor_size_is_rejected() {
    let data = b"\x80\x02ctorch._utils\n_rebuild_tensor_v2\n(\
        (X\x07\x00\x00\x00storagectorch\nFloatStorage\nX\x01\x00\x00\x000X\x03\x00\x00\x00cpuK\x04tQ\
        K\x00\x8a\x08\xff\xff\xff\xff\xff\xff\xff\x7f\x8a\x08\xff\xff\xff\xff\xff\xff\xff\x7f\x86\
        K\x01K\x01\x86\x89ccollections\nOrderedDict\n)RtR.";
    let error = unpickle_error(data);
    assert!(error.to_string().contains("overflows"), "{error}");
}

#[test]
fn truncation_at_every_byte_is_an_error() {
    let value = Value::Dict(
        Dict::ordered()
            .with(
                "w",
                Value::Tensor(Tensor::from_f32(vec![2], &[1.0, 2.0]).unwrap()),
            )
            .with("epoch", Value::Int(3)),
    );
    let Pickled { bytes, .. } = pickle(&value).unwrap();
    for end in 0..bytes.len() {
        assert!(
            unpickle(&bytes[..end], 0).is_err(),
            "prefix of {end} bytes was accepted"
        );
    }
    assert!(unpickle(&bytes, 0).is_ok());
}

#[test]
fn long1_decodes_signed_values() {
    let cases: [(&[u8], i64); 4] = [
        (b"\x80\x02\x8a\x01\xff.", -1),
        (b"\x80\x02\x8a\x02\x80\x00.", 128),
        (
            b"\x80\x02\x8a\x09\x00\x00\x00\x00\x00\x00\x00\x80\xff.",
            i64::MIN,
        ),
        (b"\x80\x02\x8a\x00.", 0),
    ];
    for (data, expected) in cases {
        assert_eq!(
            load(data, Vec::new()).unwrap(),
            Value::Int(expected),
            "{data:?}"
        );
    }
    let too_wide = b"\x80\x02\x8a\x09\xff\xff\xff\xff\xff\xff\xff\xff\x00.";
    let unpickled = unpickle(too_wide, 0).unwrap();
    assert!(matches!(unpickled.objects[unpickled.root], Obj::BigInt(_)));
    let error = load(too_wide, Vec::new()).unwrap_err();
    assert!(
        error.to_string().contains("does not fit in 64 bits"),
        "{error}"
    );
}

#[test]
fn protocol_zero_text_opcodes_are_read() {
    // INT, FLOAT, PUT, GET and LONG in their protocol-0 text form are accepted.
    let data = b"(I12\nF0.5\nI01\np0\ng0\nL7L\nt.";
    let value = load(data, Vec::new()).unwrap();
    assert_eq!(
        value,
        Value::Tuple(vec![
            Value::Int(12),
            Value::Float(0.5),
            Value::Bool(true),
            Value::Bool(true),
            Value::Int(7)
        ])
    );
}

#[test]
fn unknown_memo_key_is_an_error() {
    let error = unpickle_error(b"\x80\x02h\x05.");
    assert!(
        error.to_string().contains("memo key 5 was never stored"),
        "{error}"
    );
}
