//! Reads a profile file item by item, so an import holds one item (one
//! YAML document at most) in memory however large the file is:
//!
//! - JSON Lines (`.jsonl`, `.ndjson`): one profile, or `{"profile": {…}}`,
//!   per line; items are placed by line.
//! - JSON (`.json`): one profile, a list, or `{"profiles": [...]}`; a list
//!   is read element by element from the file.
//! - YAML (anything else): documents separated by `---` lines, each one
//!   profile, a list, or `profiles: [...]`. A block-style list (`- …`
//!   entries) is read entry by entry and placed by line; anything else in
//!   a document (one profile, a flow-style `[…]` list) is read whole and
//!   placed by document. Anchors cannot reach from one list entry into
//!   another.
//!
//! Each item is converted on its own: one that does not parse is reported
//! in place and the others still import.

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use serde::de::{DeserializeSeed, Deserializer, Error as _, MapAccess, SeqAccess, Visitor};

use super::files::{FileError, profile_from_value};
use crate::grpc::pb;

/// One item of the file.
pub struct Item {
    /// Its number in the file, from 1.
    pub number: usize,
    /// Where it is, when that says more than its number (`line 7`,
    /// `document 3`).
    pub place: Option<String>,
    /// The brand id the item names, if any (to name a rejected item).
    pub brand_id: String,
    pub profile: Result<pb::BrandProfile, String>,
}

/// Why reading stopped before the end of the file.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    /// The file cannot be read, or is not a file of profiles.
    #[error(transparent)]
    File(#[from] FileError),
    /// The consumer went away (the import failed); nothing to report.
    #[error("stopped")]
    Stopped,
}

/// Counts the bytes read, for the progress bar.
struct Counted<R> {
    inner: R,
    read: Arc<AtomicU64>,
}

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

enum Format {
    JsonLines,
    Json,
    Yaml,
}

fn format_of(path: &Path) -> Format {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or_default()
        .to_ascii_lowercase();
    match ext.as_str() {
        "jsonl" | "ndjson" => Format::JsonLines,
        "json" => Format::Json,
        // YAML is a superset of JSON: other extensions parse as YAML.
        _ => Format::Yaml,
    }
}

/// Numbers items and hands them to the consumer.
struct Emitter<'a> {
    next: usize,
    send: &'a mut dyn FnMut(Item) -> bool,
}

impl Emitter<'_> {
    /// Hands on the next item.
    fn hand_on(
        &mut self,
        place: Option<String>,
        brand_id: String,
        profile: Result<pb::BrandProfile, String>,
    ) -> Result<(), SourceError> {
        self.next += 1;
        let item = Item {
            number: self.next,
            place,
            brand_id,
            profile,
        };
        if (self.send)(item) {
            Ok(())
        } else {
            Err(SourceError::Stopped)
        }
    }

    /// An item that is not even a value (not JSON, not YAML).
    fn emit_error(&mut self, place: Option<String>, message: String) -> Result<(), SourceError> {
        self.hand_on(place, String::new(), Err(message))
    }

    fn emit(&mut self, place: Option<String>, value: serde_json::Value) -> Result<(), SourceError> {
        let value = unwrap_profile(value);
        let brand_id = ["brand_id", "brandId"]
            .iter()
            .find_map(|k| value.get(k).and_then(|v| v.as_str()))
            .unwrap_or_default()
            .to_string();
        self.hand_on(place, brand_id, profile_from_value(value))
    }
}

/// `{"profile": {…}}` (the JSON Lines form `kairos eval` reads) is the
/// profile inside.
fn unwrap_profile(value: serde_json::Value) -> serde_json::Value {
    match value {
        serde_json::Value::Object(mut map) if map.len() == 1 && map.contains_key("profile") => {
            map.remove("profile").unwrap_or_default()
        }
        other => other,
    }
}

/// Reads `path` to its end, calling `send` for each item in file order;
/// `send` returns false to stop. `read` counts the bytes read so far.
pub fn read(
    path: &Path,
    read: Arc<AtomicU64>,
    send: &mut dyn FnMut(Item) -> bool,
) -> Result<(), SourceError> {
    let file = File::open(path).map_err(io_error(path))?;
    let reader = BufReader::new(Counted { inner: file, read });
    let mut out = Emitter { next: 0, send };
    match format_of(path) {
        Format::JsonLines => json_lines(path, reader, &mut out),
        Format::Json => json(path, reader, &mut out),
        Format::Yaml => yaml(path, reader, &mut out),
    }
}

fn io_error(path: &Path) -> impl Fn(std::io::Error) -> SourceError + '_ {
    move |source| {
        FileError::Read {
            path: path.display().to_string(),
            source,
        }
        .into()
    }
}

fn json_lines(path: &Path, reader: impl BufRead, out: &mut Emitter<'_>) -> Result<(), SourceError> {
    for (i, line) in reader.lines().enumerate() {
        let line = line.map_err(io_error(path))?;
        if line.trim().is_empty() {
            continue;
        }
        let place = Some(format!("line {}", i + 1));
        match serde_json::from_str::<serde_json::Value>(&line) {
            Ok(value) => out.emit(place, value)?,
            // A line that is not JSON is one bad item, not a bad file.
            Err(e) => out.emit_error(place, format!("not JSON: {e}"))?,
        }
    }
    Ok(())
}

fn json(path: &Path, reader: impl Read, out: &mut Emitter<'_>) -> Result<(), SourceError> {
    let mut de = serde_json::Deserializer::from_reader(reader);
    let mut stopped = false;
    let result = de
        .deserialize_any(TopLevel {
            out: &mut *out,
            stopped: &mut stopped,
        })
        .and_then(|()| de.end());
    match result {
        Ok(()) => Ok(()),
        Err(_) if stopped => Err(SourceError::Stopped),
        Err(e) if e.is_io() => Err(io_error(path)(e.into())),
        Err(e) => Err(FileError::Parse {
            path: path.display().to_string(),
            message: format!("{e} (after item {})", out.next),
        }
        .into()),
    }
}

/// The top of a JSON file: a list, `{"profiles": [...]}`, or one profile.
struct TopLevel<'a, 'b> {
    out: &'a mut Emitter<'b>,
    stopped: &'a mut bool,
}

impl<'de> Visitor<'de> for TopLevel<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a profile, a list of profiles, or {\"profiles\": [...]}")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<(), A::Error> {
        Elements {
            out: self.out,
            stopped: self.stopped,
        }
        .visit_seq(seq)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut one = serde_json::Map::new();
        let mut listed = false;
        while let Some(key) = map.next_key::<String>()? {
            if key == "profiles" && one.is_empty() && !listed {
                map.next_value_seed(Elements {
                    out: &mut *self.out,
                    stopped: &mut *self.stopped,
                })?;
                listed = true;
            } else if listed {
                return Err(A::Error::custom(format!(
                    "unexpected key {key:?} beside \"profiles\""
                )));
            } else {
                one.insert(key, map.next_value()?);
            }
        }
        if !listed {
            emit(self.out, self.stopped, serde_json::Value::Object(one))?;
        }
        Ok(())
    }
}

fn emit<E: serde::de::Error>(
    out: &mut Emitter<'_>,
    stopped: &mut bool,
    value: serde_json::Value,
) -> Result<(), E> {
    out.emit(None, value).map_err(|_| {
        *stopped = true;
        E::custom("stopped")
    })
}

/// A JSON list, handed on element by element.
struct Elements<'a, 'b> {
    out: &'a mut Emitter<'b>,
    stopped: &'a mut bool,
}

impl<'de> Visitor<'de> for Elements<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a list of profiles")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while let Some(value) = seq.next_element::<serde_json::Value>()? {
            emit(self.out, self.stopped, value)?;
        }
        Ok(())
    }
}

impl<'de> DeserializeSeed<'de> for Elements<'_, '_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, de: D) -> Result<(), D::Error> {
        de.deserialize_seq(self)
    }
}

/// A line that starts a new YAML document.
fn is_separator(line: &str) -> bool {
    line.strip_prefix("---")
        .is_some_and(|rest| rest.is_empty() || rest.starts_with([' ', '\t', '\r']))
}

/// `...`: the end of a YAML document.
fn is_document_end(line: &str) -> bool {
    line.strip_prefix("...")
        .is_some_and(|rest| rest.is_empty() || rest.starts_with([' ', '\t', '\r', '#']))
}

/// A line that holds nothing but whitespace or a comment.
fn is_blank(line: &str) -> bool {
    let t = line.trim_start();
    t.is_empty() || t.starts_with('#')
}

fn indent_of(line: &str) -> usize {
    line.len() - line.trim_start_matches(' ').len()
}

/// `- …` or `-` alone: a block-sequence entry at this line's indentation.
fn starts_entry(line: &str) -> bool {
    line.trim_start_matches(' ')
        .strip_prefix('-')
        .is_some_and(|rest| rest.is_empty() || rest.starts_with([' ', '\t', '\r']))
}

/// `profiles:`, with nothing after it but a comment.
fn is_profiles_key(line: &str) -> bool {
    line.strip_prefix("profiles:")
        .is_some_and(|rest| is_blank(rest) || rest.trim().is_empty())
}

/// How the lines of the current YAML document are being read.
enum Doc {
    /// Only blank lines and comments so far.
    Empty,
    /// `profiles:` seen; its list has not started.
    ProfilesKey { text: String },
    /// A block list of profiles, handed on entry by entry: each entry is
    /// parsed on its own and placed by its first line, so a list of any
    /// length needs one entry in memory.
    Entries {
        indent: usize,
        entry: String,
        line: usize,
    },
    /// Anything else (one profile, a flow-style list) is parsed whole.
    Whole { text: String },
}

struct YamlReader<'p, 'a, 'b> {
    path: &'p Path,
    out: &'a mut Emitter<'b>,
    doc: Doc,
    number: usize,
    /// Documents are named once the file has shown it has several.
    several: bool,
}

impl YamlReader<'_, '_, '_> {
    fn line(&mut self, line: String, number: usize) -> Result<(), SourceError> {
        if is_document_end(&line) {
            return self.end_document();
        }
        if is_separator(&line) {
            self.several = true;
            self.end_document()?;
            // `--- value` carries content on the separator line itself.
            let rest = line[3..].to_string();
            if !is_blank(&rest) {
                self.doc = Doc::Whole { text: rest + "\n" };
            }
            return Ok(());
        }
        self.doc = match std::mem::replace(&mut self.doc, Doc::Empty) {
            // A directive (`%YAML 1.2`) only precedes a `---`.
            Doc::Empty if is_blank(&line) || line.starts_with('%') => Doc::Empty,
            Doc::Empty if indent_of(&line) == 0 && starts_entry(&line) => Doc::Entries {
                indent: 0,
                entry: line + "\n",
                line: number,
            },
            Doc::Empty if is_profiles_key(&line) => Doc::ProfilesKey { text: line + "\n" },
            Doc::Empty => Doc::Whole { text: line + "\n" },
            Doc::ProfilesKey { mut text } if is_blank(&line) => {
                text.push_str(&line);
                text.push('\n');
                Doc::ProfilesKey { text }
            }
            Doc::ProfilesKey { .. } if starts_entry(&line) => Doc::Entries {
                indent: indent_of(&line),
                entry: line + "\n",
                line: number,
            },
            Doc::ProfilesKey { mut text } => {
                text.push_str(&line);
                text.push('\n');
                Doc::Whole { text }
            }
            Doc::Entries {
                indent,
                mut entry,
                line: first,
            } => {
                let inside = is_blank(&line) || indent_of(&line) > indent;
                if inside {
                    entry.push_str(&line);
                    entry.push('\n');
                    Doc::Entries {
                        indent,
                        entry,
                        line: first,
                    }
                } else if indent_of(&line) == indent && starts_entry(&line) {
                    self.entry(&entry, first)?;
                    Doc::Entries {
                        indent,
                        entry: line + "\n",
                        line: number,
                    }
                } else {
                    // The entry read so far still counts; what follows is
                    // a shape this reader does not split (a flow
                    // collection continued at the entry's indentation, a
                    // tab, another key after the list).
                    self.entry(&entry, first)?;
                    let tab = if line.starts_with('\t') {
                        " (YAML does not allow tabs for indentation)"
                    } else {
                        ""
                    };
                    return Err(FileError::Parse {
                        path: self.path.display().to_string(),
                        message: format!(
                            "line {number}: {:?} is not part of a list entry{tab}; \
                             write each profile as a `- ` entry indented under the list, \
                             or use JSON Lines",
                            super::files::excerpt(&line)
                        ),
                    }
                    .into());
                }
            }
            Doc::Whole { mut text } => {
                text.push_str(&line);
                text.push('\n');
                Doc::Whole { text }
            }
        };
        Ok(())
    }

    /// One list entry: `- …` and its more indented lines, a YAML list of one.
    fn entry(&mut self, text: &str, line: usize) -> Result<(), SourceError> {
        let place = Some(format!("line {line}"));
        match serde_yaml_ng::from_str::<Vec<serde_json::Value>>(text) {
            Ok(mut values) if values.len() == 1 => {
                let value = values.pop().unwrap_or_default();
                self.out.emit(place, value)
            }
            Ok(_) => self.out.emit_error(place, "not one list entry".into()),
            Err(e) => self.out.emit_error(place, format!("not YAML: {e}")),
        }
    }

    fn end_document(&mut self) -> Result<(), SourceError> {
        match std::mem::replace(&mut self.doc, Doc::Empty) {
            Doc::Empty => return Ok(()),
            Doc::Entries { entry, line, .. } => self.entry(&entry, line)?,
            Doc::ProfilesKey { text } | Doc::Whole { text } => self.whole(&text)?,
        }
        self.number += 1;
        Ok(())
    }

    fn whole(&mut self, text: &str) -> Result<(), SourceError> {
        let place = self.several.then(|| format!("document {}", self.number));
        let value: serde_json::Value = match serde_yaml_ng::from_str(text) {
            Ok(v) => v,
            // Documents are independent: one that does not parse is one
            // bad item, and the next `---` starts afresh.
            Err(e) if self.several => {
                return self.out.emit_error(place, format!("not YAML: {e}"));
            }
            Err(e) => {
                return Err(FileError::Parse {
                    path: self.path.display().to_string(),
                    message: e.to_string(),
                }
                .into());
            }
        };
        let items = match value {
            serde_json::Value::Array(items) => items,
            serde_json::Value::Object(mut map)
                if map.len() == 1 && map.contains_key("profiles") =>
            {
                match map.remove("profiles") {
                    Some(serde_json::Value::Array(items)) => items,
                    _ => {
                        return Err(FileError::Parse {
                            path: self.path.display().to_string(),
                            message: "\"profiles\" must be a list".into(),
                        }
                        .into());
                    }
                }
            }
            one => vec![one],
        };
        for value in items {
            self.out.emit(place.clone(), value)?;
        }
        Ok(())
    }
}

fn yaml(path: &Path, reader: impl BufRead, out: &mut Emitter<'_>) -> Result<(), SourceError> {
    let mut r = YamlReader {
        path,
        out,
        doc: Doc::Empty,
        number: 1,
        several: false,
    };
    for (i, line) in reader.lines().enumerate() {
        r.line(line.map_err(io_error(path))?, i + 1)?;
    }
    r.end_document()
}
