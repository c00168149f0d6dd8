//! What the steps of an assessment write down: the reasons, weighted by how
//! much each decided, and the risk evidence with the caps and declines the
//! risk rules set.

use super::super::model::{Detail, Factor, Reason, ReasonCode};

/// How much one reason matters when ordering: what decided first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Weight {
    Note = 0,
    Factor = 1,
    Cap = 2,
    Decisive = 3,
}

/// Clamps to [0, 1]; anything not finite counts as 0.
pub(super) fn unit(x: f64) -> f64 {
    if x.is_finite() {
        x.clamp(0.0, 1.0)
    } else {
        0.0
    }
}

/// 1 − Π(1 − eᵢ): more evidence approaches 1 and never passes it. Kept
/// as the running product, so no list of the parts is needed. The order of
/// the pushes is part of the result's last bits: the golden file pins it.
pub(super) struct Saturate(f64);

impl Saturate {
    pub(super) fn new() -> Self {
        Self(1.0)
    }

    pub(super) fn push(&mut self, evidence: f64) {
        self.0 *= 1.0 - unit(evidence);
    }

    pub(super) fn value(&self) -> f64 {
        unit(1.0 - self.0)
    }
}

/// The reasons found so far, in the order they were found: the final sort
/// is stable, so that order breaks ties.
pub(super) struct Reasons(pub(super) Vec<(Weight, Reason)>);

impl Reasons {
    pub(super) fn new() -> Self {
        // The list becomes the answer's in place, so its capacity is what
        // every kept assessment (thousands in a ScoreBatch) carries. Twenty
        // covers the usual 5-12 reasons, and 20 weighted reasons are
        // exactly 24 bare ones: a size that is not a whole number of bare
        // reasons would be reallocated by the in-place collect.
        Self(Vec::with_capacity(20))
    }

    pub(super) fn add(
        &mut self,
        weight: Weight,
        code: ReasonCode,
        factor: Factor,
        contribution: f64,
        detail: impl Into<Detail>,
    ) {
        let contribution = if contribution.is_finite() {
            contribution
        } else {
            0.0
        };
        self.0.push((
            weight,
            Reason {
                code,
                factor,
                contribution,
                detail: detail.into(),
            },
        ));
    }

    /// Raises every reason with `code` to at least `weight`.
    pub(super) fn promote(&mut self, code: ReasonCode, weight: Weight) {
        for (w, reason) in &mut self.0 {
            if reason.code == code && *w < weight {
                *w = weight;
            }
        }
    }

    pub(super) fn has(&self, code: ReasonCode) -> bool {
        self.0.iter().any(|(_, reason)| reason.code == code)
    }

    /// Most decisive first, then the largest contribution; ties keep the
    /// order found. Sorting in place then dropping the weights reuses the
    /// list's allocation for the answer.
    pub(super) fn into_sorted(mut self) -> Vec<Reason> {
        self.0.sort_by(|(wa, a), (wb, b)| {
            wb.cmp(wa).then(
                b.contribution
                    .abs()
                    .partial_cmp(&a.contribution.abs())
                    .unwrap_or(std::cmp::Ordering::Equal),
            )
        });
        self.0.into_iter().map(|(_, reason)| reason).collect()
    }
}

/// The running account of one assessment: its reasons, the risk evidence,
/// and the limits the risk rules put on the decision.
pub(super) struct Ledger {
    pub(super) reasons: Reasons,
    risk: Saturate,
    /// Some rule forces DECLINE (floor content, tragedy, blocked term,
    /// blackout).
    pub(super) decline: bool,
    /// Some rule allows at most REVIEW: a person must see it.
    pub(super) review_cap: bool,
    /// Some rule allows at most LISTEN.
    pub(super) listen_cap: bool,
    /// The moment is grey in a way people must judge (the brand's own
    /// crisis, a pile-on, a crowd warning brands off): it stays with people
    /// (REVIEW) however high the risk, never LISTEN for risk.
    pub(super) with_people: bool,
}

impl Ledger {
    pub(super) fn new() -> Self {
        Self {
            reasons: Reasons::new(),
            risk: Saturate::new(),
            decline: false,
            review_cap: false,
            listen_cap: false,
            with_people: false,
        }
    }

    /// Adds `risk` to the intrusiveness evidence, with its reason.
    pub(super) fn risk(
        &mut self,
        weight: Weight,
        code: ReasonCode,
        risk: f64,
        detail: impl Into<Detail>,
    ) {
        self.risk.push(risk);
        self.reasons.add(weight, code, Factor::Risk, risk, detail);
    }

    /// Evidence that moves the risk without a reason of its own (the
    /// quiet-hours reason is a timing reason).
    pub(super) fn silent_risk(&mut self, risk: f64) {
        self.risk.push(risk);
    }

    pub(super) fn risk_value(&self) -> f64 {
        self.risk.value()
    }
}
