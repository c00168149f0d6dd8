//! Where the profile's terms occur in the analysed event: the one pass over
//! the event's tokens that every later step reads.

use super::super::analyse::{AnalysedEvent, Source};
use super::super::compiled::{CompiledProfile, Term};

#[derive(Default)]
pub(super) struct Hits {
    /// (term, source) for names in text/hashtags.
    pub(super) names: Vec<(Term, Source)>,
    /// Sample posts naming the brand.
    pub(super) name_posts: Vec<usize>,
    /// Best source per theme index.
    pub(super) themes: Vec<(usize, Source)>,
    /// (topic index, label confidence, source).
    pub(super) topics: Vec<(usize, f64, Source)>,
    pub(super) competitors: Vec<(usize, Source)>,
    pub(super) blocked: Vec<(usize, Source)>,
    pub(super) blocked_topics: Vec<(usize, Source)>,
}

impl Hits {
    fn record(&mut self, term: Term, source: Source, confidence: f64) {
        match term {
            Term::Name(_) => match source {
                Source::Sample(post) => {
                    if !self.name_posts.contains(&post) {
                        self.name_posts.push(post)
                    }
                }
                _ => self.names.push((term, source)),
            },
            Term::Theme(theme) => {
                if let Some(seen) = self.themes.iter_mut().find(|(j, _)| *j == theme) {
                    if matches!(seen.1, Source::Sample(_)) && !matches!(source, Source::Sample(_)) {
                        seen.1 = source;
                    }
                } else {
                    // Themes come in numbers when they come at all: one
                    // allocation instead of growing through 4 and 8.
                    if self.themes.is_empty() {
                        self.themes.reserve(16);
                    }
                    self.themes.push((theme, source))
                }
            }
            Term::Topic(topic) => self.topics.push((topic, confidence, source)),
            Term::Competitor(competitor) => self.competitors.push((competitor, source)),
            Term::Blocked(blocked) => self.blocked.push((blocked, source)),
            Term::BlockedTopic(blocked) => self.blocked_topics.push((blocked, source)),
        }
    }
}

pub(super) fn collect(analysed: &AnalysedEvent, profile: &CompiledProfile) -> Hits {
    let mut hits = Hits::default();
    let matcher = profile.matcher(analysed.form);
    let (first_tag, past_tags) = analysed.hashtag_segments;
    matcher.for_each(&analysed.main, |index, token| {
        let segment = analysed.main.segment_of(token);
        let source = if (first_tag..past_tags).contains(&segment) {
            Source::Hashtag
        } else {
            Source::Text
        };
        if let Some(term) = profile.terms.get(index) {
            hits.record(*term, source, 1.0);
        }
    });
    matcher.for_each(&analysed.samples, |index, token| {
        let post = analysed.samples.segment_of(token);
        if let Some(term) = profile.terms.get(index) {
            hits.record(*term, Source::Sample(post), 1.0);
        }
    });
    matcher.for_each(&analysed.topics, |index, token| {
        let label = analysed.topics.segment_of(token);
        let confidence = analysed
            .event
            .topics
            .get(label)
            .map(|t| t.confidence)
            .unwrap_or(0.0);
        if let Some(term) = profile.terms.get(index) {
            match term {
                Term::Topic(_) | Term::BlockedTopic(_) => {
                    hits.record(*term, Source::Label, confidence)
                }
                _ => {}
            }
        }
    });
    if !profile.glued.is_empty() {
        for glued in &analysed.glued {
            profile.glued.for_each(glued, 1, |id| {
                if let Some(term) = profile.glued_terms.get(id) {
                    hits.record(*term, Source::Hashtag, 1.0);
                }
            });
        }
    }
    hits
}
