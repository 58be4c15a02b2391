use mixformer_data::{BBox, DataError};

/// Errors of building and running a [`crate::Tracker`].
#[derive(Debug, thiserror::Error)]
pub enum TrackerError {
    /// The box given to `initialize` cannot start tracking.
    #[error(
        "invalid initial box (x {}, y {}, w {}, h {}): the coordinates must be finite and the \
         width and height positive",
        .bbox.x, .bbox.y, .bbox.w, .bbox.h
    )]
    InvalidInitialBox {
        /// The rejected box.
        bbox: BBox,
    },

    /// `track` was called before `initialize`.
    #[error("the tracker has no target: call initialize with the first frame and box before track")]
    NotInitialized,

    /// A frame without pixels.
    #[error("frame of {width}x{height} pixels: a frame needs at least one pixel")]
    EmptyFrame {
        /// Frame width in pixels.
        width: u32,
        /// Frame height in pixels.
        height: u32,
    },

    /// A tracking parameter is out of range.
    #[error("invalid tracking parameter {name} = {value}: {expected}")]
    InvalidParameter {
        /// Field of [`crate::TrackerParams`].
        name: &'static str,
        /// The rejected value.
        value: String,
        /// The accepted range.
        expected: &'static str,
    },

    /// A crop size of the parameters does not fit the network.
    #[error(
        "{region} size {params} px does not fit the model, which expects {model} px \
         ({grid}x{grid} patches of {patch} px); set TEST.{key} to {model} in the experiment file \
         or load the checkpoint with the matching experiment"
    )]
    CropSizeMismatch {
        /// `template` or `search`.
        region: &'static str,
        /// The config key to fix.
        key: &'static str,
        /// Size in the parameters.
        params: usize,
        /// Size the model was built for.
        model: usize,
        /// Token grid side of the model.
        grid: usize,
        /// Patch side of the model.
        patch: usize,
    },

    /// A crop could not be cut around the current box.
    #[error("failed to crop the {region} region: {source}")]
    Crop {
        /// `template` or `search`.
        region: &'static str,
        /// The cause.
        #[source]
        source: DataError,
    },

    /// The network's output could not be read back from the device.
    #[error("failed to read the network output back from the device: {message}")]
    Readback {
        /// The backend's message.
        message: String,
    },
}
