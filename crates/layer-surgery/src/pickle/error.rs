//! Errors of the restricted unpickler.

/// Reason a pickle stream was rejected. Offsets are byte positions inside the
/// pickle stream (the `data.pkl` entry of a zip checkpoint).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PickleError {
    #[error(
        "data ends at byte {offset} inside {opcode}, which needs {needed} more bytes; \
         the file is truncated or corrupt"
    )]
    Truncated {
        offset: usize,
        opcode: &'static str,
        needed: u64,
    },

    #[error("data ends at byte {offset} without a STOP opcode; the file is truncated")]
    MissingStop { offset: usize },

    #[error("byte {offset}: unknown opcode 0x{code:02x}; the data is not a pickle or is corrupt")]
    UnknownOpcode { offset: usize, code: u8 },

    #[error("byte {offset}: opcode {name} is not accepted in tensor files because {reason}")]
    RejectedOpcode {
        offset: usize,
        name: &'static str,
        reason: &'static str,
    },

    #[error(
        "byte {offset}: global `{module}.{name}` is not allowed; tensor files reference only \
         collections.OrderedDict, the torch._utils tensor rebuild functions and torch storage \
         types, so this file may carry code and was not loaded"
    )]
    ForbiddenGlobal {
        offset: usize,
        module: String,
        name: String,
    },

    /// A global outside the allow-list that foreign objects would accept.
    #[error(
        "byte {offset}: global `{module}.{name}` is not allowed; tensor files reference only \
         collections.OrderedDict, the torch._utils tensor rebuild functions and torch storage \
         types. If this is a checkpoint that pickles trainer objects (a `settings` object, \
         statistics), read it with foreign objects allowed (`--allow-foreign-objects`), which \
         reads such objects as inert placeholders"
    )]
    ForeignGlobal {
        offset: usize,
        module: String,
        name: String,
    },

    /// A global rejected even with foreign objects allowed. `global` is
    /// `module.name`, kept in one string so that the error stays small.
    #[error(
        "byte {offset}: global `{global}` is not allowed, even with foreign objects allowed, \
         because {reason}; this file may carry code and was not loaded"
    )]
    DeniedGlobal {
        offset: usize,
        global: String,
        reason: &'static str,
    },

    #[error("byte {offset}: {opcode}: {detail}")]
    Invalid {
        offset: usize,
        opcode: &'static str,
        detail: String,
    },

    #[error("byte {offset}: {what} exceeds the limit of {limit}")]
    LimitExceeded {
        offset: usize,
        what: &'static str,
        limit: usize,
    },

    /// The opcodes were valid but the objects they built are not a checkpoint value.
    #[error("{detail}")]
    Structure { detail: String },
}
