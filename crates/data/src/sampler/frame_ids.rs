//! Frame-id rules of the sampler modes, on a sequence's per-frame flags.
//!
//! The rules follow `TrackingSampler` of the MixFormer reference
//! (`lib/train/data/sampler.py`). Where the reference loops without bound,
//! these functions terminate by construction or stop after a fixed number
//! of draws and report why.

use rand::{Rng, RngExt};

/// Draws that the trident and stark rules may make before giving up. When
/// the first template does not fall before the search frame, the search
/// frame itself is a candidate, so a draw succeeds with probability at least
/// 1/2 on any sequence with a visible frame. Reaching this bound therefore
/// means that the sequence cannot satisfy the rule.
const MAX_TRIDENT_DRAWS: usize = 1000;

/// The gap of the causal rule grows by this many frames after each failed
/// draw, as in the reference.
const GAP_INCREASE: usize = 5;

/// Template and search frame ids of one sample; the first template is the
/// initial template, the rest are online templates.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct FrameIds {
    pub templates: Vec<usize>,
    pub search: Vec<usize>,
}

/// Frame filter of a draw window.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Accept {
    /// Frames whose flag is set.
    Flagged,
    /// Frames whose flag is not set.
    Unflagged,
    /// Every frame.
    Any,
}

/// Draws `count` ids with replacement, uniformly among the accepted frames of
/// `[min, max)` (clamped to the sequence); `None` when there is none.
pub(crate) fn draw_ids(
    flags: &[bool],
    count: usize,
    min: i64,
    max: i64,
    accept: Accept,
    rng: &mut impl Rng,
) -> Option<Vec<usize>> {
    if count == 0 {
        return Some(Vec::new());
    }
    let min = min.max(0) as usize;
    let max = (max.max(0) as usize).min(flags.len());
    let candidates: Vec<usize> = (min..max)
        .filter(|&i| match accept {
            Accept::Flagged => flags[i],
            Accept::Unflagged => !flags[i],
            Accept::Any => true,
        })
        .collect();
    if candidates.is_empty() {
        return None;
    }
    Some(
        (0..count)
            .map(|_| candidates[rng.random_range(0..candidates.len())])
            .collect(),
    )
}

/// Draws frames by the causal rule (stages 0–2). A visible base frame is the
/// first template. Online templates are visible frames in
/// `[base − gap, base)`, and search frames visible frames in
/// `[base + 1, base + gap)`. The gap starts at `max_gap` and grows by 5
/// after every draw that finds nothing, and the base is drawn again each time.
pub(crate) fn causal(
    visible: &[bool],
    num_templates: usize,
    num_search: usize,
    max_gap: usize,
    rng: &mut impl Rng,
) -> Result<FrameIds, String> {
    let len = visible.len() as i64;
    let base_min = num_templates as i64 - 1;
    let base_max = len - num_search as i64;
    let usable_base = |base: usize| {
        let before = num_templates == 1 || visible[..base].iter().any(|v| *v);
        let after = visible[base + 1..].iter().any(|v| *v);
        before && after
    };
    let usable: Vec<usize> = (base_min.max(0)..base_max.max(0))
        .map(|b| b as usize)
        .filter(|&b| visible[b] && usable_base(b))
        .collect();
    if usable.is_empty() {
        return Err(format!(
            "no visible frame in [{base_min}, {base_max}) has a visible frame before it \
             (for the online templates) and after it (for the search frame)"
        ));
    }

    let mut gap = max_gap as i64;
    // Once the gap spans the sequence every window is the whole past or
    // future, and the loop could only redraw the base until it hits a
    // usable one: drawing among the usable bases directly is the same law.
    while gap < len + GAP_INCREASE as i64 {
        let base = draw_ids(visible, 1, base_min, base_max, Accept::Flagged, rng)
            .map(|ids| ids[0] as i64)
            .ok_or("no visible base frame")?;
        let templates = draw_ids(
            visible,
            num_templates - 1,
            base - gap,
            base,
            Accept::Flagged,
            rng,
        );
        let search = templates.as_ref().and_then(|_| {
            draw_ids(
                visible,
                num_search,
                base + 1,
                base + gap,
                Accept::Flagged,
                rng,
            )
        });
        if let (Some(templates), Some(search)) = (templates, search) {
            return Ok(FrameIds {
                templates: std::iter::once(base as usize).chain(templates).collect(),
                search,
            });
        }
        gap += GAP_INCREASE as i64;
    }
    let base = usable[rng.random_range(0..usable.len())];
    let templates = draw_ids(
        visible,
        num_templates - 1,
        0,
        base as i64,
        Accept::Flagged,
        rng,
    );
    let search = draw_ids(
        visible,
        num_search,
        base as i64 + 1,
        len,
        Accept::Flagged,
        rng,
    );
    match (templates, search) {
        (Some(templates), Some(search)) => Ok(FrameIds {
            templates: std::iter::once(base).chain(templates).collect(),
            search,
        }),
        _ => Err("no usable base frame".into()),
    }
}

/// The trident rules (`trident`, `trident_pro`, and `stark` with `valid` as
/// `online_flags`): the first template and the search frame are any visible
/// frames. Each online template `k` lies within `max_gaps[k]` of the search
/// frame on the first template's side: in `[search, search + gap)` when the
/// first template is not before the search frame, else in
/// `[search − gap, search)`. `online_accept` selects the frames that qualify.
pub(crate) fn trident(
    visible: &[bool],
    online_flags: &[bool],
    online_accept: Accept,
    max_gaps: &[usize],
    rng: &mut impl Rng,
) -> Result<FrameIds, String> {
    for _ in 0..MAX_TRIDENT_DRAWS {
        let len = visible.len() as i64;
        let first = draw_ids(visible, 1, 0, len, Accept::Flagged, rng)
            .ok_or("the sequence has no visible frame")?[0];
        let search = draw_ids(visible, 1, 0, len, Accept::Flagged, rng)
            .ok_or("the sequence has no visible frame")?[0];
        let mut templates = vec![first];
        for &gap in max_gaps {
            let (min, max) = if first >= search {
                (search as i64, (search + gap) as i64)
            } else {
                (search as i64 - gap as i64, search as i64)
            };
            match draw_ids(online_flags, 1, min, max, online_accept, rng) {
                Some(ids) => templates.push(ids[0]),
                None => break,
            }
        }
        if templates.len() == max_gaps.len() + 1 {
            return Ok(FrameIds {
                templates,
                search: vec![search],
            });
        }
    }
    Err(format!(
        "no online template frame found within {max_gaps:?} frames of the search frame \
         after {MAX_TRIDENT_DRAWS} draws"
    ))
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    use super::*;

    #[test]
    fn causal_orders_templates_and_search() {
        let visible = vec![true; 100];
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        for _ in 0..200 {
            let ids = causal(&visible, 2, 1, 10, &mut rng).unwrap();
            let (base, online, search) = (ids.templates[0], ids.templates[1], ids.search[0]);
            assert!(online < base, "{ids:?}");
            assert!(base - online <= 10, "{ids:?}");
            assert!(search > base, "{ids:?}");
            assert!(search - base < 10, "{ids:?}");
        }
    }

    #[test]
    fn causal_skips_invisible_frames() {
        let mut visible = vec![false; 60];
        for i in [5, 30, 55] {
            visible[i] = true;
        }
        let mut rng = ChaCha8Rng::seed_from_u64(2);
        for _ in 0..50 {
            let ids = causal(&visible, 2, 1, 3, &mut rng).unwrap();
            assert_eq!(ids.templates, [30, 5]);
            assert_eq!(ids.search, [55]);
        }
    }

    #[test]
    fn causal_reports_unsatisfiable_sequence() {
        let mut visible = vec![false; 30];
        visible[0] = true;
        visible[29] = true;
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let message = causal(&visible, 2, 1, 5, &mut rng).unwrap_err();
        assert!(message.contains("no visible frame in [1, 29)"), "{message}");
    }

    #[test]
    fn trident_online_template_on_first_template_side() {
        let visible = vec![true; 400];
        let mut rng = ChaCha8Rng::seed_from_u64(4);
        for _ in 0..200 {
            let ids = trident(&visible, &visible, Accept::Any, &[20], &mut rng).unwrap();
            let (first, online, search) = (ids.templates[0], ids.templates[1], ids.search[0]);
            if first >= search {
                assert!((search..search + 20).contains(&online), "{ids:?}");
            } else {
                assert!(
                    (search - 20.min(search)..search).contains(&online),
                    "{ids:?}"
                );
            }
        }
    }

    #[test]
    fn trident_pro_accepts_invisible_online_template() {
        // Only frame 0 and frame 50 are visible; the online template of
        // trident_pro may still fall on an invisible frame.
        let mut visible = vec![false; 51];
        visible[0] = true;
        visible[50] = true;
        let mut rng = ChaCha8Rng::seed_from_u64(5);
        let mut saw_invisible = false;
        for _ in 0..100 {
            let ids = trident(&visible, &visible, Accept::Any, &[10], &mut rng).unwrap();
            saw_invisible |= !visible[ids.templates[1]];
        }
        assert!(saw_invisible);
    }

    #[test]
    fn draw_ids_respects_window_and_flags() {
        let flags = [true, false, true, true, false];
        let mut rng = ChaCha8Rng::seed_from_u64(6);
        for _ in 0..50 {
            let ids = draw_ids(&flags, 3, 1, 4, Accept::Flagged, &mut rng).unwrap();
            assert!(ids.iter().all(|i| [2, 3].contains(i)), "{ids:?}");
        }
        assert_eq!(
            draw_ids(&flags, 1, 0, 5, Accept::Unflagged, &mut rng).map(|ids| flags[ids[0]]),
            Some(false)
        );
        assert_eq!(draw_ids(&flags, 1, 4, 5, Accept::Flagged, &mut rng), None);
    }
}
