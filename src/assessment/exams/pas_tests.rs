use super::*;

const CANDIDATES: &str = include_str!("../../../docs/pas/PameldteKandidater.example.xml");
const RESULTS: &str = include_str!("../../../docs/pas/Karakteroversikt.example.xml");
const BAD_RESULTS: &str = include_str!("../../../tests/fixtures/pas/Karakteroversikt.bad.xml");

#[test]
fn period_codes_of_the_spring() {
    assert_eq!(spring_period_code(2027), "V-2027");
    assert_eq!(spring_period_year("V-2027"), Some(2027));
    assert_eq!(spring_period_year(" V-2027 "), Some(2027));
    assert_eq!(spring_period_year("H-2026"), None);
    assert_eq!(spring_period_year("V-27"), None);
    assert_eq!(spring_period_year("V-20x7"), None);
}

#[test]
fn the_candidates_file_is_read_past_elements_the_schema_lacks() {
    let file = parse(CANDIDATES.as_bytes()).expect("the example reads");
    let PasFile::Candidates { period_code, lines } = file else { panic!("not the candidates file") };
    assert_eq!(period_code, "V-2027");
    let got: Vec<(&str, &str, &str, usize)> = lines
        .iter()
        .map(|l| (l.subject_code.as_str(), l.group_name.as_str(), l.candidate_number.as_str(), l.line))
        .collect();
    assert_eq!(got, [("MAT0010", "Klasse 6A", "564HBS-V", 19), ("MAT0010", "Klasse 6A", "639CRS-V", 27)]);
    assert_eq!(lines[0].national_id.as_str(), "17011099955");
    assert!(lines.iter().all(|l| l.result.is_none()));
}

#[test]
fn results_store_a_grade_only_for_a_candidate_who_took_part() {
    let file = parse(RESULTS.as_bytes()).expect("the example reads");
    let PasFile::Results { org_number, lines } = file else { panic!("not the results file") };
    assert_eq!(org_number, "975278921");
    let got: Vec<_> = lines.iter().map(|l| (l.candidate_number.as_str(), l.result)).collect();
    assert_eq!(
        got,
        [
            ("564HBS-V", Some((Participation::TookPart, Some(4)))),
            ("639CRS-V", Some((Participation::DocumentedAbsence, None))),
        ]
    );
}

#[test]
fn every_bad_candidate_is_named_by_its_line_and_never_by_its_number() {
    let problems = parse(BAD_RESULTS.as_bytes()).expect_err("the bad file is refused");
    let got: Vec<String> = problems.iter().map(ToString::to_string).collect();
    assert_eq!(
        got,
        [
            "line 11: <Karakter> \"7\" is not an exam grade (1-6)",
            "line 17: <Fodselsnr>: the national id number is not valid",
            "line 23: <Deltakelsesstatus> is none of Deltatt, IkkeDokumentertFravaer, DokumentertFravaer, \
             ManglendeBesvarelse",
            "line 35: <Fodselsnr>: a DUF number is not a fødselsnummer or D-number, which PAS needs",
        ]
    );
    for p in &problems {
        assert!(!p.message.contains("1306009993") && !p.message.contains("17011099955"), "{p}");
    }
}

#[test]
fn a_candidate_twice_in_a_subject_is_a_problem() {
    let twice = RESULTS.replace("13060099930", "17011099955");
    let problems = parse(twice.as_bytes()).expect_err("refused");
    assert_eq!(problems, [Problem::at(20, "the candidate is in MAT0010 twice")]);
}

#[test]
fn files_that_are_not_pas_files_say_why() {
    let one = |input: &[u8]| parse(input).expect_err("refused").iter().map(ToString::to_string).collect::<Vec<_>>();
    assert_eq!(one(b"\xff\xfe<a/>"), ["the file is not UTF-8 text"]);
    assert_eq!(one(b""), ["the file holds no XML element"]);
    assert_eq!(
        one(b"<Pamelding/>"),
        ["line 1: <Pamelding> is not a file Tavle reads from PAS (PameldteKandidater or Karakteroversikt)"]
    );
    assert!(one(b"<Karakteroversikt>\n<Skoleorgnr>1</Skoleorgnr>\n</Eksamener>")[0]
        .starts_with("line 3: not well-formed XML"));
    assert_eq!(
        one(b"<Karakteroversikt><Skoleorgnr>97527892</Skoleorgnr></Karakteroversikt>"),
        ["line 1: <Skoleorgnr> is not an organisation number (9 digits)"]
    );
    assert_eq!(one(b"<PameldteKandidater/>"), ["line 1: <Eksamensperiodekode> is missing or empty"]);
}

#[test]
fn a_registration_is_written_as_the_schema_orders_it_with_names_escaped() {
    let r = Registration {
        pas_user: "fjordvik-us".into(),
        period_code: "V-2027".into(),
        org_number: "975278921".into(),
        school_name: "Fjordvik <ungdomsskole> & co".into(),
        error_email: Some("post@fjordvik.example".into()),
        groups: vec![CandidateGroup {
            name: "10A".into(),
            subject_code: "MAT0010".into(),
            candidates: vec![Candidate {
                national_id: "17011099955".into(),
                given_name: "Åse \"Kari\"".into(),
                family_name: "O'Neil".into(),
                written_form: WrittenForm::Nynorsk,
            }],
        }],
    };
    let xml = registration_xml(&r);
    assert!(xml.starts_with(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Pamelding xmlns=\"http://pas.udir.no/Pamelding\" \
         xmlns:ct=\"http://pas.udir.no/CommonTypes\">\n  <BrukernavnPAS>fjordvik-us</BrukernavnPAS>\n  \
         <EksamensPeriodeKode>V-2027</EksamensPeriodeKode>\n  <Orgnr>975278921</Orgnr>\n  \
         <Skolenavn>Fjordvik &lt;ungdomsskole&gt; &amp; co</Skolenavn>\n"
    ));
    // Read back: the elements in the schema's order, the text as it was.
    let root = tree(&xml).expect("well-formed");
    let names: Vec<&str> = root.children.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "BrukernavnPAS",
            "EksamensPeriodeKode",
            "Orgnr",
            "Skolenavn",
            "Kandidatgrupper",
            "Opplaeringsniva",
            "EpostadresseVedFeil"
        ]
    );
    assert_eq!(root.child("Skolenavn").map(|n| n.text.as_str()), Some("Fjordvik <ungdomsskole> & co"));
    let group = &root.children[4].children[0];
    let group_names: Vec<&str> = group.children.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(group_names, ["Navn", "Fagkode", "Kandidatgruppeansvarlige", "Kandidater"]);
    let kandidat = &group.children[3].children[0];
    let fields: Vec<(&str, &str)> = kandidat.children.iter().map(|c| (c.name.as_str(), c.text.as_str())).collect();
    assert_eq!(
        fields,
        [
            ("Fodselsnr", "17011099955"),
            ("Fornavn", "Åse \"Kari\""),
            ("Etternavn", "O'Neil"),
            ("Malform", "Nynorsk"),
            ("Kandidattype", "Elev")
        ]
    );
    assert_eq!(root.child("Opplaeringsniva").map(|n| n.text.as_str()), Some("GS"));
}

#[test]
fn pas_takes_birth_and_d_numbers_only() {
    assert!(exam_number("17011099955").is_ok());
    assert_eq!(exam_number("17011099956").err(), Some("the national id number is not valid"));
    assert!(exam_number("201500000001").is_err());
}
