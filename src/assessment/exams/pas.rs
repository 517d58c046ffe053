//! The directorate's PAS exam files, on their own (no database): the registration
//! Tavle writes (`Pamelding`), and the two files PAS sends back that Tavle reads: the
//! candidates with their numbers (`PameldteKandidater`) and the results
//! (`Karakteroversikt`). Element names, order, namespaces and value sets are those of
//! the published schemas (`Pamelding.xsd`, `PameldteKandidater.xsd`,
//! `Karakteroversikt.xsd`, `CommonTypes.xsd` in Utdanningsdirektoratet/PAS2-Public).
//!
//! Reading is by local element name and lenient about elements it does not know (the
//! published sample of `PameldteKandidater` has a `<Variant/>` the schema lacks), strict
//! about the values it uses: every bad candidate is a [`Problem`] with its line, and a
//! file with any problem is applied not at all (`super::import`).

use std::fmt;

use quick_xml::escape::{escape, resolve_predefined_entity};
use quick_xml::events::Event;
use quick_xml::Reader;

use crate::domain::national_id::{NationalId, NationalIdKind};

/// Namespaces of the schemas.
pub const NS_PAMELDING: &str = "http://pas.udir.no/Pamelding";
pub const NS_COMMON: &str = "http://pas.udir.no/CommonTypes";

/// PAS's code of the exam period in the spring that ends a school year: `V-2027` for
/// 2026-2027 (lower-secondary exams are held in the spring; `H-` codes are autumn
/// periods for upper secondary and external candidates).
#[must_use]
pub fn spring_period_code(year_ends: i32) -> String {
    format!("V-{year_ends}")
}

/// The year of a spring period code (`V-2027` → 2027); None for any other code.
#[must_use]
pub fn spring_period_year(code: &str) -> Option<i32> {
    let year = code.trim().strip_prefix("V-")?;
    if year.len() != 4 || !year.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    year.parse().ok()
}

/// Målform, the written form of Norwegian (`SprakType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WrittenForm {
    Bokmal,
    Nynorsk,
}

impl WrittenForm {
    /// From Tavle's stored code (`pupils.written_form`).
    #[must_use]
    pub fn from_code(code: &str) -> Option<Self> {
        match code {
            "nb" => Some(WrittenForm::Bokmal),
            "nn" => Some(WrittenForm::Nynorsk),
            _ => None,
        }
    }

    fn pas(self) -> &'static str {
        match self {
            WrittenForm::Bokmal => "Bokmal",
            WrittenForm::Nynorsk => "Nynorsk",
        }
    }
}

/// A candidate of the registration: a pupil of the school (`Kandidattype` `Elev`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    /// Fødselsnummer or D-number (checked before: [`exam_number`]).
    pub national_id: String,
    pub given_name: String,
    pub family_name: String,
    pub written_form: WrittenForm,
}

/// A candidate group: the pupils drawn in one subject from one teaching group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CandidateGroup {
    pub name: String,
    /// The subject's code in Grep (fagkode).
    pub subject_code: String,
    pub candidates: Vec<Candidate>,
}

/// A school's registration for an exam period (`Pamelding`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Registration {
    /// The school's user name in PAS (`BrukernavnPAS`).
    pub pas_user: String,
    pub period_code: String,
    /// The school's organisation number (the sub-unit's).
    pub org_number: String,
    pub school_name: String,
    /// Where PAS writes if processing fails.
    pub error_email: Option<String>,
    pub groups: Vec<CandidateGroup>,
}

/// Whether PAS can take this number as a candidate's `Fodselsnr`: a fødselsnummer or a
/// D-number (a DUF number is not one, and an H-number identifies no one).
///
/// # Errors
///
/// Why not, as a sentence that never contains the number.
pub fn exam_number(raw: &str) -> Result<NationalId, &'static str> {
    let id = NationalId::parse(raw).map_err(|_| "the national id number is not valid")?;
    match id.kind() {
        NationalIdKind::Duf => Err("a DUF number is not a fødselsnummer or D-number, which PAS needs"),
        NationalIdKind::HNumber => Err("an H-number identifies no one in the population register"),
        _ => Ok(id),
    }
}

/// The registration as the document PAS takes: UTF-8, elements qualified as the schema
/// says (the candidate group's responsible teachers, in the common types' namespace,
/// are left for the school to add in PAS: the element is there and empty).
#[must_use]
pub fn registration_xml(r: &Registration) -> String {
    let mut x = String::with_capacity(512 + r.groups.iter().map(|g| 64 + g.candidates.len() * 256).sum::<usize>());
    x.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    x.push_str(&format!("<Pamelding xmlns=\"{NS_PAMELDING}\" xmlns:ct=\"{NS_COMMON}\">\n"));
    element(&mut x, 1, "BrukernavnPAS", &r.pas_user);
    element(&mut x, 1, "EksamensPeriodeKode", &r.period_code);
    element(&mut x, 1, "Orgnr", &r.org_number);
    element(&mut x, 1, "Skolenavn", &r.school_name);
    x.push_str("  <Kandidatgrupper>\n");
    for g in &r.groups {
        x.push_str("    <Kandidatgruppe>\n");
        element(&mut x, 3, "Navn", &g.name);
        element(&mut x, 3, "Fagkode", &g.subject_code);
        x.push_str("      <Kandidatgruppeansvarlige/>\n");
        x.push_str("      <Kandidater>\n");
        for c in &g.candidates {
            x.push_str("        <Kandidat>\n");
            element(&mut x, 5, "Fodselsnr", &c.national_id);
            element(&mut x, 5, "Fornavn", &c.given_name);
            element(&mut x, 5, "Etternavn", &c.family_name);
            element(&mut x, 5, "Malform", c.written_form.pas());
            element(&mut x, 5, "Kandidattype", "Elev");
            x.push_str("        </Kandidat>\n");
        }
        x.push_str("      </Kandidater>\n");
        x.push_str("    </Kandidatgruppe>\n");
    }
    x.push_str("  </Kandidatgrupper>\n");
    element(&mut x, 1, "Opplaeringsniva", "GS");
    if let Some(email) = &r.error_email {
        element(&mut x, 1, "EpostadresseVedFeil", email);
    }
    x.push_str("</Pamelding>\n");
    x
}

fn element(x: &mut String, depth: usize, name: &str, text: &str) {
    for _ in 0..depth {
        x.push_str("  ");
    }
    x.push_str(&format!("<{name}>{}</{name}>\n", escape(text)));
}

/// Whether a candidate took part in the exam (`DeltakelsesstatusType`), by Tavle's
/// stored code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Participation {
    /// Deltatt: there is a grade.
    TookPart,
    /// IkkeDokumentertFravaer.
    UndocumentedAbsence,
    /// DokumentertFravaer.
    DocumentedAbsence,
    /// ManglendeBesvarelse: no answer handed in.
    NoAnswer,
}

impl Participation {
    fn from_pas(s: &str) -> Option<Self> {
        match s {
            "Deltatt" => Some(Participation::TookPart),
            "IkkeDokumentertFravaer" => Some(Participation::UndocumentedAbsence),
            "DokumentertFravaer" => Some(Participation::DocumentedAbsence),
            "ManglendeBesvarelse" => Some(Participation::NoAnswer),
            _ => None,
        }
    }

    /// Stored code (`exam_candidates.participation`).
    #[must_use]
    pub fn code(self) -> &'static str {
        match self {
            Participation::TookPart => "took_part",
            Participation::UndocumentedAbsence => "undocumented_absence",
            Participation::DocumentedAbsence => "documented_absence",
            Participation::NoAnswer => "no_answer",
        }
    }
}

/// One candidate of a file PAS sent back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    /// The line of the candidate's element in the file.
    pub line: usize,
    pub subject_code: String,
    pub group_name: String,
    pub national_id: NationalId,
    pub candidate_number: String,
    /// Karakteroversikt only: the result.
    pub result: Option<(Participation, Option<i16>)>,
}

/// A file PAS sent back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PasFile {
    /// `PameldteKandidater`: the period and each candidate's number.
    Candidates { period_code: String, lines: Vec<Line> },
    /// `Karakteroversikt`: the school and each candidate's result.
    Results { org_number: String, lines: Vec<Line> },
}

impl PasFile {
    #[must_use]
    pub fn lines(&self) -> &[Line] {
        match self {
            PasFile::Candidates { lines, .. } | PasFile::Results { lines, .. } => lines,
        }
    }
}

/// A problem of a file: where (a line; None for the file as a whole) and what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub line: Option<usize>,
    pub message: String,
}

impl Problem {
    pub fn at(line: usize, message: impl Into<String>) -> Self {
        Problem { line: Some(line), message: message.into() }
    }
    pub fn file(message: impl Into<String>) -> Self {
        Problem { line: None, message: message.into() }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "line {line}: {}", self.message),
            None => write!(f, "{}", self.message),
        }
    }
}

/// An element of the file: its local name, the line it starts on, its text and its
/// children.
#[derive(Debug, Default)]
struct Node {
    name: String,
    line: usize,
    text: String,
    children: Vec<Node>,
}

impl Node {
    fn child(&self, name: &str) -> Option<&Node> {
        self.children.iter().find(|c| c.name == name)
    }
    fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Node> + 'a {
        self.children.iter().filter(move |c| c.name == name)
    }
    /// The trimmed text of the child `name`; a problem at this element's line if missing
    /// or empty.
    fn text_of(&self, name: &str) -> Result<&str, Problem> {
        match self.child(name).map(|c| c.text.trim()) {
            Some(t) if !t.is_empty() => Ok(t),
            _ => Err(Problem::at(self.line, format!("<{name}> is missing or empty"))),
        }
    }
}

/// Files of more than this many bytes are refused (a school's results are some hundred
/// kilobytes at most).
pub const MAX_BYTES: usize = 16 * 1024 * 1024;

/// Read a file PAS sent back. Every problem is returned, each candidate's with its line.
///
/// # Errors
///
/// The problems; then nothing of the file may be applied.
pub fn parse(input: &[u8]) -> Result<PasFile, Vec<Problem>> {
    if input.len() > MAX_BYTES {
        return Err(vec![Problem::file("the file is larger than 16 MiB; a PAS file of a school is far smaller")]);
    }
    let text = std::str::from_utf8(input.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(input))
        .map_err(|_| vec![Problem::file("the file is not UTF-8 text")])?;
    let root = tree(text).map_err(|p| vec![p])?;
    let mut problems = Vec::new();
    let mut lines = Vec::new();
    let file = match root.name.as_str() {
        "PameldteKandidater" => {
            let period_code = match root.text_of("Eksamensperiodekode") {
                Ok(code) => code.to_owned(),
                Err(p) => return Err(vec![p]),
            };
            for exam in root.child("Eksamenspameldinger").into_iter().flat_map(|e| e.all("Eksamenspamelding")) {
                exam_lines(exam, false, &mut lines, &mut problems);
            }
            PasFile::Candidates { period_code, lines }
        }
        "Karakteroversikt" => {
            let org_number = match root.text_of("Skoleorgnr") {
                Ok(org) if org.len() == 9 && org.bytes().all(|b| b.is_ascii_digit()) => org.to_owned(),
                Ok(_) => {
                    return Err(vec![Problem::at(root.line, "<Skoleorgnr> is not an organisation number (9 digits)")])
                }
                Err(p) => return Err(vec![p]),
            };
            for exam in root.child("Eksamener").into_iter().flat_map(|e| e.all("Eksamen")) {
                exam_lines(exam, true, &mut lines, &mut problems);
            }
            PasFile::Results { org_number, lines }
        }
        other => {
            return Err(vec![Problem::at(
                root.line,
                format!("<{other}> is not a file Tavle reads from PAS (PameldteKandidater or Karakteroversikt)"),
            )])
        }
    };
    let mut seen = std::collections::HashSet::new();
    for l in file.lines() {
        if !seen.insert((l.subject_code.as_str(), l.national_id.as_str())) {
            problems.push(Problem::at(l.line, format!("the candidate is in {} twice", l.subject_code)));
        }
    }
    if problems.is_empty() {
        Ok(file)
    } else {
        problems.sort_by_key(|p| p.line);
        Err(problems)
    }
}

/// The candidates of one subject (`Eksamenspamelding` or `Eksamen`).
fn exam_lines(exam: &Node, results: bool, lines: &mut Vec<Line>, problems: &mut Vec<Problem>) {
    let subject = match exam.text_of("Fagkode") {
        Ok(code) => code.to_owned(),
        Err(p) => return problems.push(p),
    };
    for group in exam.child("Kandidatgrupper").into_iter().flat_map(|g| g.all("Kandidatgruppe")) {
        let group_name = group.child("Navn").map(|n| n.text.trim().to_owned()).unwrap_or_default();
        for c in group.child("Kandidater").into_iter().flat_map(|k| k.all("Kandidat")) {
            match candidate(c, results) {
                Ok((national_id, candidate_number, result)) => lines.push(Line {
                    line: c.line,
                    subject_code: subject.clone(),
                    group_name: group_name.clone(),
                    national_id,
                    candidate_number,
                    result,
                }),
                Err(p) => problems.push(p),
            }
        }
    }
}

type CandidateFields = (NationalId, String, Option<(Participation, Option<i16>)>);

fn candidate(c: &Node, results: bool) -> Result<CandidateFields, Problem> {
    let id = exam_number(c.text_of("Fodselsnr")?).map_err(|m| Problem::at(c.line, format!("<Fodselsnr>: {m}")))?;
    let number = c.text_of("Kandidatnummer")?;
    if number.len() > 20 || !number.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
        return Err(Problem::at(c.line, "<Kandidatnummer> is not a candidate number (letters, digits and -)"));
    }
    if !results {
        return Ok((id, number.to_owned(), None));
    }
    let status = c.text_of("Deltakelsesstatus")?;
    let participation = Participation::from_pas(status).ok_or_else(|| {
        Problem::at(
            c.line,
            "<Deltakelsesstatus> is none of Deltatt, IkkeDokumentertFravaer, DokumentertFravaer, ManglendeBesvarelse",
        )
    })?;
    let grade = if participation == Participation::TookPart {
        let raw = c.text_of("Karakter")?;
        match raw.parse::<i16>() {
            Ok(g @ 1..=6) => Some(g),
            _ => return Err(Problem::at(c.line, format!("<Karakter> {raw:?} is not an exam grade (1-6)"))),
        }
    } else {
        // PAS sends a number (0) also for a candidate who did not take part: no grade.
        None
    };
    Ok((id, number.to_owned(), Some((participation, grade))))
}

/// The document as a tree of elements (local names; namespaces and attributes aside).
fn tree(text: &str) -> Result<Node, Problem> {
    let mut reader = Reader::from_str(text);
    let line_at = |pos: u64| -> usize {
        let end = usize::try_from(pos).unwrap_or(usize::MAX).min(text.len());
        1 + text.as_bytes()[..end].iter().filter(|&&b| b == b'\n').count()
    };
    let mut stack: Vec<Node> = vec![Node::default()];
    let mut buf_pos = 0;
    loop {
        let event = reader.read_event();
        let line = line_at(buf_pos);
        buf_pos = reader.buffer_position();
        let event =
            event.map_err(|e| Problem::at(line_at(reader.error_position()), format!("not well-formed XML: {e}")))?;
        match event {
            Event::Start(e) => {
                let name = String::from_utf8_lossy(e.local_name().as_ref()).into_owned();
                stack.push(Node { name, line, ..Node::default() });
            }
            Event::Empty(e) => {
                let name = String::from_utf8_lossy(e.local_name().as_ref()).into_owned();
                let node = Node { name, line, ..Node::default() };
                if let Some(parent) = stack.last_mut() {
                    parent.children.push(node);
                }
            }
            Event::End(_) => {
                let node = stack.pop().ok_or_else(|| Problem::at(line, "not well-formed XML"))?;
                match stack.last_mut() {
                    Some(parent) => parent.children.push(node),
                    None => return Err(Problem::at(line, "not well-formed XML")),
                }
            }
            Event::Text(t) => {
                if let Some(node) = stack.last_mut() {
                    node.text.push_str(&t.decode().map_err(|_| Problem::at(line, "text that is not UTF-8"))?);
                }
            }
            Event::CData(t) => {
                if let Some(node) = stack.last_mut() {
                    node.text.push_str(&t.decode().map_err(|_| Problem::at(line, "text that is not UTF-8"))?);
                }
            }
            Event::GeneralRef(r) => {
                let resolved = match r.resolve_char_ref() {
                    Ok(Some(ch)) => ch.to_string(),
                    Ok(None) => {
                        let name = r.decode().map_err(|_| Problem::at(line, "an unknown entity"))?;
                        resolve_predefined_entity(&name)
                            .ok_or_else(|| Problem::at(line, format!("an unknown entity &{name};")))?
                            .to_owned()
                    }
                    Err(_) => return Err(Problem::at(line, "a character reference that is no character")),
                };
                if let Some(node) = stack.last_mut() {
                    node.text.push_str(&resolved);
                }
            }
            Event::Eof => break,
            Event::Comment(_) | Event::Decl(_) | Event::PI(_) | Event::DocType(_) => {}
        }
    }
    let mut document =
        stack.pop().filter(|_| stack.is_empty()).ok_or_else(|| Problem::file("the file ends inside an element"))?;
    match document.children.len() {
        1 => Ok(document.children.remove(0)),
        0 => Err(Problem::file("the file holds no XML element")),
        _ => Err(Problem::file("the file holds more than one root element")),
    }
}

#[cfg(test)]
#[path = "pas_tests.rs"]
mod tests;
