//! Errors of the distillation losses and schedules.

use thiserror::Error;

/// An input that a loss or schedule cannot use.
///
/// Each message names the function, the input and what the caller has to change.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum DistillError {
    /// A box tensor whose last dimension is not 4.
    #[error(
        "{function}: {input} has shape {shape:?}, expected boxes with 4 coordinates in the last \
         dimension"
    )]
    BoxShape {
        function: &'static str,
        input: &'static str,
        shape: Vec<usize>,
    },

    /// Two inputs that must have the same shape but do not.
    #[error(
        "{function}: {left_name} has shape {left_shape:?} but {right_name} has shape \
         {right_shape:?}, expected equal shapes"
    )]
    ShapeMismatch {
        function: &'static str,
        left_name: &'static str,
        left_shape: Vec<usize>,
        right_name: &'static str,
        right_shape: Vec<usize>,
    },

    /// An input with no elements, whose mean would be NaN.
    #[error("{function}: {input} has shape {shape:?} with no elements, expected a non-empty batch")]
    Empty {
        function: &'static str,
        input: &'static str,
        shape: Vec<usize>,
    },

    /// A teacher corner map whose cell count is not the square of the student's bin count.
    #[error(
        "corner KL loss: the teacher's {map} has {cells} cells per sample, but the student \
         predicts {bins} bins per side, which needs a {bins}x{bins} map of {expected} cells; \
         make the teacher's score-map size equal the student's MODEL.FEAT_SZ"
    )]
    CornerMapSize {
        map: &'static str,
        cells: usize,
        bins: usize,
        expected: usize,
    },

    /// Student and teacher layer lists of different lengths.
    #[error(
        "feature MSE loss: {student} student layers but {teacher} teacher layers; \
         TRAIN.DISTILL_LAYERS_STUDENT and TRAIN.DISTILL_LAYERS_TEACHER must pair up one to one"
    )]
    LayerCountMismatch { student: usize, teacher: usize },

    /// An empty pair of layer lists.
    #[error(
        "feature MSE loss: no layer pairs given; list at least one block in \
         TRAIN.DISTILL_LAYERS_STUDENT and TRAIN.DISTILL_LAYERS_TEACHER"
    )]
    NoLayers,

    /// A layer index past the end of the recorded block outputs.
    #[error(
        "feature MSE loss: {role} layer {index} is out of range because the {role} recorded \
         {available} block outputs; use indices below {available}"
    )]
    LayerOutOfRange {
        role: &'static str,
        index: usize,
        available: usize,
    },

    /// A remove-rate schedule over zero epochs.
    #[error(
        "remove-rate schedule: the removal period is 0 epochs, expected at least 1 \
         (the reference uses 40)"
    )]
    ZeroRemovalEpochs,

    /// Epoch 0 given to a schedule whose epochs are 1-based.
    #[error("remove-rate schedule: epoch 0 is invalid, epochs are numbered from 1")]
    EpochZero,

    /// A model whose box head cannot play its role in an actor.
    #[error(
        "{actor}: the {role} has {found}, but this stage needs {expected}; check the {role}'s \
         MODEL.HEAD_TYPE"
    )]
    HeadMismatch {
        actor: &'static str,
        role: &'static str,
        expected: &'static str,
        found: &'static str,
    },

    /// A student without the score head in the score stage.
    #[error(
        "{actor}: the student has no score head; build it from a mixformer2_vit_online \
         experiment"
    )]
    MissingScoreHead { actor: &'static str },

    /// A score-stage batch without labels.
    #[error(
        "{actor}: the batch has no labels, but the score head is trained against one label per \
         sample (1 positive, 0 negative); sample it with DATA.SAMPLER_MODE trident_pro"
    )]
    MissingLabels { actor: &'static str },

    /// Batch inputs that hold different numbers of samples.
    #[error(
        "{actor}: {input} has {found} samples but the search images have {expected}, and every \
         input of a batch must have the same samples"
    )]
    BatchSize {
        actor: &'static str,
        input: &'static str,
        found: usize,
        expected: usize,
    },

    /// A block listed for removal that the student does not have.
    #[error(
        "{actor}: TRAIN.REMOVE_LAYERS lists block {index}, but the student has {depth} blocks; \
         use indices below {depth}"
    )]
    RemoveLayerOutOfRange {
        actor: &'static str,
        index: usize,
        depth: usize,
    },
}
