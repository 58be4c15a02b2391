//! Box and score heads.

pub mod corner;
pub mod distribution;
pub mod score;

pub use corner::{CornerHead, CornerOutput};
pub use distribution::{DistributionHead, DistributionOutput};
pub use score::ScoreHead;
