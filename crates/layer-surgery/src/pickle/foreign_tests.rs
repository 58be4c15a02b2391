//! Unit tests of foreign objects on hand-written pickles.

use super::{PickleError, StorageRef, StorageSource, to_value, unpickle, unpickle_with};
use crate::error::{Error, Result};
use crate::foreign::ForeignObject;
use crate::format::ReadOptions;
use crate::value::{Dict, Value};

/// A pickle without persistent ids needs no storage.
struct NoStorages;

impl StorageSource for NoStorages {
    fn load(&mut self, storage: &StorageRef) -> Result<&[u8]> {
        Err(Error::invalid_file(
            "memory",
            format!("no storage {}", storage.key),
        ))
    }
}

fn lenient_error(data: &[u8]) -> PickleError {
    match unpickle_with(data, 0, &ReadOptions::allowing_foreign_objects()) {
        Err(error) => error,
        Ok(unpickled) => panic!(
            "expected an error, got {:?}",
            unpickled.objects[unpickled.root]
        ),
    }
}

fn load_lenient(data: &[u8]) -> Result<Value> {
    let unpickled =
        unpickle_with(data, 0, &ReadOptions::allowing_foreign_objects()).map_err(|source| {
            Error::Pickle {
                origin: "memory".into(),
                part: "data.pkl".into(),
                source,
            }
        })?;
    let origin = super::Origin {
        file: "memory",
        part: "data.pkl",
    };
    to_value(&unpickled, &mut NoStorages, 1 << 20, &origin)
}

fn object(value: &Value) -> &ForeignObject {
    match value {
        Value::Object(object) => object,
        other => panic!("expected a foreign object, found {other:?}"),
    }
}

#[test]
fn newobj_and_build_record_class_and_state() {
    let value = load_lenient(b"\x80\x02clib.m\nC\n)\x81}X\x01\x00\x00\x00xK\x05sb.").unwrap();
    let object = object(&value);
    assert_eq!(object.module, "lib.m");
    assert_eq!(object.name, "C");
    assert_eq!(object.args, Some(Vec::new()));
    assert_eq!(object.attribute("x"), Some(&Value::Int(5)));
}

#[test]
fn reduce_records_arguments() {
    let value = load_lenient(b"\x80\x02ctorch\ndevice\nX\x03\x00\x00\x00cpu\x85R.").unwrap();
    let object = object(&value);
    assert_eq!(object.qualified_name(), "torch.device");
    assert_eq!(object.args, Some(vec![Value::Str("cpu".into())]));
    assert_eq!(object.state, None);
}

#[test]
fn newobj_ex_records_keyword_arguments() {
    // STACK_GLOBAL (protocol 4) takes the module and name from the stack.
    let data = b"\x80\x04\x8c\x05lib.m\x8c\x01C\x93)}X\x01\x00\x00\x00kK\x01s\x92.";
    let value = load_lenient(data).unwrap();
    let object = object(&value);
    assert_eq!(object.qualified_name(), "lib.m.C");
    assert_eq!(object.kwargs, Dict::new().with("k", Value::Int(1)));
}

#[test]
fn inst_and_obj_record_arguments() {
    let inst = load_lenient(b"(K\x01ilib.m\nC\n.").unwrap();
    assert_eq!(object(&inst).args, Some(vec![Value::Int(1)]));
    assert_eq!(object(&inst).qualified_name(), "lib.m.C");
    let obj = load_lenient(b"(clib.m\nC\nK\x02o.").unwrap();
    assert_eq!(object(&obj).args, Some(vec![Value::Int(2)]));
}

#[test]
fn sets_read_alike_in_protocols_2_and_4() {
    let protocol4 = load_lenient(b"\x80\x04\x8f(K\x01K\x02\x90.").unwrap();
    let protocol2 = load_lenient(b"\x80\x02c__builtin__\nset\n](K\x01K\x02e\x85R.").unwrap();
    assert_eq!(protocol4, protocol2);
    let set = object(&protocol4);
    assert_eq!(set.qualified_name(), "builtins.set");
    assert_eq!(
        set.args,
        Some(vec![Value::List(vec![Value::Int(1), Value::Int(2)])])
    );
    let frozen = load_lenient(b"\x80\x04(K\x01\x91.").unwrap();
    assert_eq!(object(&frozen).qualified_name(), "builtins.frozenset");
    assert_eq!(
        object(&frozen).args,
        Some(vec![Value::List(vec![Value::Int(1)])])
    );
}

#[test]
fn container_subclass_items_are_recorded() {
    let dict = load_lenient(b"\x80\x02clib.m\nD\n)\x81X\x01\x00\x00\x00aK\x01s.").unwrap();
    assert_eq!(
        object(&dict).dict_items,
        Dict::new().with("a", Value::Int(1))
    );
    let list = load_lenient(b"\x80\x02clib.m\nL\n)\x81K\x07a.").unwrap();
    assert_eq!(object(&list).list_items, vec![Value::Int(7)]);
}

#[test]
fn allowed_global_as_value_is_a_reference() {
    let value = load_lenient(b"\x80\x02ccollections\nOrderedDict\n.").unwrap();
    let reference = object(&value);
    assert_eq!(reference.qualified_name(), "collections.OrderedDict");
    assert_eq!(reference.args, None);
}

#[test]
fn strict_reader_names_foreign_class_and_option() {
    let error = unpickle(b"\x80\x02clib.m\nC\n)\x81.", 0).unwrap_err();
    assert!(
        matches!(&error, PickleError::ForeignGlobal { module, name, .. }
            if module == "lib.m" && name == "C"),
        "{error:?}"
    );
    let message = error.to_string();
    assert!(
        message.contains("global `lib.m.C` is not allowed"),
        "{message}"
    );
    assert!(message.contains("--allow-foreign-objects"), "{message}");
}

#[test]
fn denied_globals_fail_in_every_opcode_form() {
    let cases: [(&[u8], &str); 5] = [
        (
            b"\x80\x02cos\nsystem\nX\x02\x00\x00\x00ls\x85R.",
            "os.system",
        ),
        (
            b"\x80\x04\x8c\x08builtins\x8c\x04eval\x93X\x01\x00\x00\x001\x85R.",
            "builtins.eval",
        ),
        (
            b"\x80\x02c__builtin__\neval\nX\x01\x00\x00\x001\x85R.",
            "builtins.eval",
        ),
        (
            b"(X\x02\x00\x00\x00lsisubprocess\nPopen\n.",
            "subprocess.Popen",
        ),
        (
            b"\x80\x02ctorch\nload\nX\x01\x00\x00\x00f\x85R.",
            "torch.load",
        ),
    ];
    for (data, global) in cases {
        let error = lenient_error(data);
        assert!(
            matches!(error, PickleError::DeniedGlobal { .. }),
            "{global}: {error:?}"
        );
        let message = error.to_string();
        assert!(
            message.contains(&format!("global `{global}` is not allowed, even with")),
            "{message}"
        );
    }
}

#[test]
fn state_errors_name_the_class() {
    let on_class = lenient_error(b"\x80\x02clib.m\nC\n}b.");
    assert!(
        on_class
            .to_string()
            .contains("cannot set the state of the class lib.m.C"),
        "{on_class}"
    );
    let twice = lenient_error(b"\x80\x02clib.m\nC\n)\x81}b}b.");
    assert!(
        twice.to_string().contains("the state is set twice"),
        "{twice}"
    );
    let call = lenient_error(b"\x80\x02clib.m\nC\n)\x81)R.");
    assert!(
        call.to_string()
            .contains("cannot call an instance of lib.m.C"),
        "{call}"
    );
}

#[test]
fn foreign_object_as_storage_is_an_error() {
    let data = b"\x80\x02ctorch._utils\n_rebuild_tensor_v2\n(clib.m\nS\n)\x81K\x00K\x01\x85\
        K\x01\x85\x89)tR.";
    let error = lenient_error(data);
    assert!(
        error
            .to_string()
            .contains("expects a storage, found a foreign object"),
        "{error}"
    );
}

#[test]
fn foreign_object_as_dict_key_is_an_error() {
    let error = lenient_error(b"\x80\x02}clib.m\nC\n)\x81K\x01s.");
    assert!(
        error
            .to_string()
            .contains("dict key of type foreign object is not supported"),
        "{error}"
    );
}

#[test]
fn object_containing_itself_hits_depth_limit() {
    let data = b"\x80\x02clib.m\nC\n)\x81q\x00}X\x01\x00\x00\x00sh\x00sb.";
    let error = load_lenient(data).unwrap_err();
    assert!(error.to_string().contains("contain themselves"), "{error}");
}

#[test]
fn mark_limit_holds_with_foreign_objects() {
    let mut data = b"\x80\x02".to_vec();
    data.extend(std::iter::repeat_n(b'(', 1025));
    let error = lenient_error(&data);
    assert!(
        matches!(
            error,
            PickleError::LimitExceeded {
                what: "MARK nesting",
                ..
            }
        ),
        "{error:?}"
    );
}

#[test]
fn truncated_foreign_pickle_is_an_error() {
    let data = b"\x80\x02clib.m\nC\n)\x81}X\x01\x00\x00\x00s\x8f(K\x01\x90sb.";
    assert!(load_lenient(data).is_ok());
    for end in 0..data.len() {
        assert!(
            load_lenient(&data[..end]).is_err(),
            "prefix of {end} bytes was accepted"
        );
    }
}
