//! Globals rejected even with foreign objects allowed. Reading a placeholder
//! never runs code, so this list does not make reading safe. It makes files
//! that only an attacker would write fail loudly instead of loading as
//! harmless-looking placeholders.

/// Modules whose globals run processes, load code or pickles, reach the
/// interpreter, the file system or the network. A module is rejected together
/// with its submodules (`os` covers `os.path`).
const DENIED_MODULES: &[&str] = &[
    "os",
    "posix",
    "nt",
    "subprocess",
    "_posixsubprocess",
    "pty",
    "sys",
    "importlib",
    "imp",
    "zipimport",
    "pkgutil",
    "runpy",
    "site",
    "code",
    "codeop",
    "pdb",
    "bdb",
    "timeit",
    "trace",
    "profile",
    "cProfile",
    "inspect",
    "gc",
    "types",
    "ctypes",
    "_ctypes",
    "operator",
    "_operator",
    "functools",
    "copyreg",
    "copy_reg",
    "pickle",
    "_pickle",
    "cPickle",
    "pickletools",
    "shelve",
    "marshal",
    "dill",
    "cloudpickle",
    "joblib",
    "codecs",
    "_codecs",
    "io",
    "_io",
    "tempfile",
    "shutil",
    "glob",
    "socket",
    "_socket",
    "ssl",
    "select",
    "selectors",
    "signal",
    "asyncio",
    "threading",
    "_thread",
    "multiprocessing",
    "concurrent",
    "webbrowser",
    "urllib",
    "urllib2",
    "http",
    "httplib",
    "ftplib",
    "smtplib",
    "telnetlib",
    "xmlrpc",
    "requests",
    "platform",
    "commands",
    "popen2",
    "ensurepip",
    "pip",
    "setuptools",
    "distutils",
    "venv",
    "torch.hub",
    "torch.jit",
    "torch.package",
    "torch.utils.cpp_extension",
];

/// The `builtins` that only construct plain data. Protocol 2 pickles sets,
/// frozensets and bytearrays by calling these.
const ALLOWED_BUILTINS: &[&str] = &["set", "frozenset", "bytearray", "slice", "complex", "range"];

/// Function names that evaluate code, read attributes by name, open files or
/// load serialised objects, in whatever module they appear.
const DENIED_NAMES: &[&str] = &[
    "eval",
    "exec",
    "execfile",
    "compile",
    "open",
    "input",
    "breakpoint",
    "getattr",
    "setattr",
    "delattr",
    "globals",
    "locals",
    "vars",
    "apply",
    "system",
    "popen",
    "runstring",
    "load",
    "loads",
    "unsafe_load",
    "full_load",
];

/// Returns the module name Python 3's unpickler uses for a Python 2 name.
pub(super) fn python3_module(module: &str) -> &str {
    match module {
        "__builtin__" => "builtins",
        other => other,
    }
}

/// Returns why `module.name` is rejected even with foreign objects allowed,
/// or `None` if it may become a placeholder.
pub(super) fn denial_reason(module: &str, name: &str) -> Option<&'static str> {
    if module == "builtins" {
        return (!ALLOWED_BUILTINS.contains(&name)).then_some(
            "builtins other than set, frozenset, bytearray, slice, complex and range evaluate \
             code or reach the interpreter",
        );
    }
    let denied_module = DENIED_MODULES.iter().any(|denied| {
        module == *denied
            || module
                .strip_prefix(denied)
                .is_some_and(|rest| rest.starts_with('.'))
    });
    if denied_module {
        return Some(
            "its module runs processes, loads code or pickles, or reaches the interpreter, \
             the file system or the network",
        );
    }
    // Protocol 4 resolves a dotted name attribute by attribute, and the
    // dunder attributes (`__globals__`, `__builtins__`) lead into the interpreter.
    let components = || name.split('.');
    if components().any(|part| part.len() > 4 && part.starts_with("__") && part.ends_with("__")) {
        return Some("its name walks through dunder attributes");
    }
    if components().any(|part| DENIED_NAMES.contains(&part)) {
        return Some(
            "functions of this name evaluate code, read attributes by name, open files or \
             load serialised objects",
        );
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn denial_reason_rejects_code_running_globals() {
        for (module, name) in [
            ("os", "system"),
            ("os.path", "join"),
            ("posix", "system"),
            ("nt", "system"),
            ("subprocess", "Popen"),
            ("sys", "modules"),
            ("importlib", "import_module"),
            ("shutil", "rmtree"),
            ("socket", "socket"),
            ("pickle", "loads"),
            ("marshal", "loads"),
            ("codecs", "open"),
            ("_codecs", "decode"),
            ("builtins", "eval"),
            ("builtins", "getattr"),
            ("builtins", "__import__"),
            ("torch", "load"),
            ("numpy.testing._private.utils", "runstring"),
            ("lib.train", "Settings.__init__.__globals__"),
            ("torch.hub", "load_state_dict_from_url"),
        ] {
            assert!(
                denial_reason(module, name).is_some(),
                "{module}.{name} was accepted"
            );
        }
    }

    #[test]
    fn denial_reason_accepts_trainer_classes() {
        for (module, name) in [
            ("lib.train.admin.settings", "Settings"),
            ("lib.train.admin.stats", "AverageMeter"),
            ("argparse", "Namespace"),
            ("easydict", "EasyDict"),
            ("torch", "device"),
            ("numpy._core.multiarray", "scalar"),
            ("numpy", "dtype"),
            ("builtins", "set"),
            ("osmosis", "Meter"),
            ("lib.os_utils", "Paths"),
        ] {
            assert_eq!(denial_reason(module, name), None, "{module}.{name}");
        }
    }

    #[test]
    fn python2_builtins_read_as_builtins() {
        assert_eq!(python3_module("__builtin__"), "builtins");
        assert_eq!(python3_module("lib.train"), "lib.train");
    }
}
