//! Name pools for the demo population. Invented combinations of common names; the
//! pools carry æ, ø, å, Northern Sami letters (á, č, đ, ŋ, š, ŧ, ž) and names from the
//! languages most spoken in Norwegian schools, so that sorting, searching and rendering
//! meet real-world text.

/// The background a family's names are drawn from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    Norwegian,
    Sami,
    Other,
}

pub struct Pool {
    pub girls: &'static [&'static str],
    pub boys: &'static [&'static str],
    pub families: &'static [&'static str],
}

pub const NORWEGIAN: Pool = Pool {
    girls: &[
        "Nora", "Emma", "Ella", "Maja", "Olivia", "Sofie", "Ingrid", "Astrid", "Frida", "Sara", "Thea", "Ida", "Tiril",
        "Solveig", "Åse", "Kristin", "Marte", "Hedda", "Sigrid", "Live", "Tuva", "Mathilde", "Selma", "Oda", "Eirin",
        "Ragnhild", "Bjørg", "Guro", "Kaja", "Vilde", "Julie", "Hanne", "Synnøve", "Mari", "Ylva", "Aurora", "Liv",
        "Åshild", "Hege", "Karoline", "Signe", "Rønnaug", "Silje", "Kari",
    ],
    boys: &[
        "Jakob",
        "Emil",
        "Noah",
        "Oliver",
        "Filip",
        "William",
        "Lucas",
        "Henrik",
        "Magnus",
        "Sander",
        "Ola",
        "Håkon",
        "Øyvind",
        "Bjørn",
        "Sindre",
        "Eirik",
        "Tobias",
        "Johannes",
        "Aksel",
        "Even",
        "Torbjørn",
        "Kristoffer",
        "Pål",
        "Steinar",
        "Erlend",
        "Vegard",
        "Jørgen",
        "Mats",
        "Trygve",
        "Sjur",
        "Ådne",
        "Iver",
        "Leon",
        "Brage",
        "Ivar",
        "Gaute",
        "Halvor",
        "Knut",
        "Lars",
        "Øystein",
        "Åsmund",
        "Geir",
    ],
    families: &[
        "Hansen",
        "Johansen",
        "Olsen",
        "Larsen",
        "Andersen",
        "Pedersen",
        "Nilsen",
        "Kristiansen",
        "Jensen",
        "Karlsen",
        "Johnsen",
        "Pettersen",
        "Eriksen",
        "Berg",
        "Haugen",
        "Hagen",
        "Johannessen",
        "Andreassen",
        "Jacobsen",
        "Dahl",
        "Jørgensen",
        "Halvorsen",
        "Lund",
        "Sørensen",
        "Bakken",
        "Strand",
        "Solberg",
        "Kristoffersen",
        "Moen",
        "Lie",
        "Rønning",
        "Ødegård",
        "Aas",
        "Ås",
        "Bråten",
        "Sæther",
        "Løken",
        "Næss",
        "Øien",
        "Holm",
        "Fjeld",
        "Vik",
        "Myrvang",
        "Ålvik",
        "Sætre",
        "Grønlien",
        "Mæland",
        "Hølaas",
        "Østby",
        "Æsøy",
        "Kvåle",
        "Rødseth",
        "Tveit",
        "Skjærvø",
        "Brøndbo",
        "Aune",
    ],
};

pub const SAMI: Pool = Pool {
    girls: &[
        "Máret",
        "Ánne",
        "Biret",
        "Elle",
        "Sunná",
        "Inga",
        "Risten",
        "Kárená",
        "Ristiinná",
        "Sárá",
        "Ingá",
        "Gáddá",
        "Ášlat",
        "Márjá",
        "Ellen",
        "Siiri",
    ],
    boys: &[
        "Niillas", "Ánte", "Issát", "Ovllá", "Áilu", "Mihkkal", "Máhtte", "Jovnna", "Nils", "Ánde", "Heaika", "Juhán",
        "Biehtár", "Ođđa", "Ásllat", "Ivvár",
    ],
    families: &[
        "Sara",
        "Somby",
        "Gaup",
        "Eira",
        "Hætta",
        "Valkeapää",
        "Buljo",
        "Bongo",
        "Turi",
        "Utsi",
        "Guttorm",
        "Mienna",
        "Siri",
        "Oskal",
        "Balto",
        "Kemi",
        "Magga",
        "Nango",
        "Skum",
        "Anti",
        "Áššu",
        "Čuđe",
        "Ráhčá",
        "Čáŋgal",
        "Ŋuorra",
        "Šávži",
        "Ŧaŧŧa",
        "Žohkka",
    ],
};

pub const OTHER: Pool = Pool {
    girls: &[
        "Aisha", "Fatima", "Amina", "Zahra", "Hana", "Yasmin", "Maria", "Zofia", "Julia", "Anna", "Leyla", "Mariam",
        "Sumaya", "Huda", "Linh", "Mai", "Daria", "Olena", "Tsega", "Selam", "Ayşe", "Elif", "Jasmin", "Sana",
    ],
    boys: &[
        "Mohammed", "Ali", "Omar", "Yusuf", "Ibrahim", "Ahmed", "Adam", "Jakub", "Mateusz", "Oskar", "Minh", "Huy",
        "Dawit", "Yonas", "Mustafa", "Emre", "Andriy", "Taras", "Hamza", "Bilal", "Ismail", "Rami",
    ],
    families: &[
        "Ahmed",
        "Ali",
        "Hussein",
        "Mohamed",
        "Khan",
        "Hassan",
        "Abdi",
        "Yusuf",
        "Nowak",
        "Kowalski",
        "Wiśniewski",
        "Nguyen",
        "Tran",
        "Pham",
        "Tesfaye",
        "Haile",
        "Yılmaz",
        "Demir",
        "Kovalenko",
        "Shevchenko",
        "Rahimi",
        "Karimi",
        "Hosseini",
        "Jama",
        "Farah",
        "Popescu",
        "Müller",
        "Bauer",
    ],
};

pub fn pool(origin: Origin) -> &'static Pool {
    match origin {
        Origin::Norwegian => &NORWEGIAN,
        Origin::Sami => &SAMI,
        Origin::Other => &OTHER,
    }
}

/// Other mother tongues (ISO 639-1) of children of the "other" origin.
pub const MOTHER_TONGUES: &[&str] = &["ar", "so", "pl", "ti", "uk", "vi", "tr", "fa", "ur", "lt", "ro", "de"];

pub const STREETS: &[&str] = &[
    "Fjordveien",
    "Skolebakken",
    "Solbakkvegen",
    "Nordlysvegen",
    "Åsveien",
    "Bjørkelia",
    "Havnegata",
    "Kirkebakken",
    "Strandvegen",
    "Myrvoll",
    "Løkkeveien",
    "Tyttebærstien",
    "Granåsen",
    "Sjøgata",
    "Rypeveien",
    "Fjellgata",
    "Måkeveien",
    "Storgata",
    "Elvegata",
    "Furulia",
    "Bøgata",
    "Lyngheia",
    "Gáisá geaidnu",
    "Čuoika geaidnu",
    "Nøstet",
    "Hågåveien",
    "Reinveien",
    "Ørnevegen",
    "Lerkevegen",
];

/// Parts of the invented school and place names of the large municipality.
pub const PLACE_HEADS: &[&str] = &[
    "Bjørke", "Furu", "Hav", "Lyng", "Stein", "Ås", "Myr", "Grøn", "Sol", "Løv", "Nord", "Sør", "Øster", "Vester",
    "Berg",
];
pub const PLACE_TAILS: &[&str] =
    &["lia", "haugen", "bakken", "vollen", "dalen", "åsen", "tun", "heim", "sletta", "vika", "enga", "mo"];

/// Lower-case ASCII for a Feide user name: æ → ae, ø → o, å → aa, Sami letters to
/// their base letter, anything else dropped.
pub fn ascii_fold(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars().flat_map(char::to_lowercase) {
        match c {
            'a'..='z' | '0'..='9' => out.push(c),
            'æ' => out.push_str("ae"),
            'ø' | 'ö' | 'ó' => out.push('o'),
            'å' => out.push_str("aa"),
            'á' | 'ä' | 'à' => out.push('a'),
            'č' | 'ç' => out.push('c'),
            'đ' => out.push('d'),
            'ŋ' => out.push('n'),
            'š' | 'ş' | 'ś' => out.push('s'),
            'ŧ' => out.push('t'),
            'ž' => out.push('z'),
            'é' | 'è' | 'ê' => out.push('e'),
            'ü' | 'ú' => out.push('u'),
            'ı' | 'í' => out.push('i'),
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_norwegian_and_sami_letters() {
        assert_eq!(ascii_fold("Ødegård"), "odegaard");
        assert_eq!(ascii_fold("Hætta"), "haetta");
        assert_eq!(ascii_fold("Ŋuorra"), "nuorra");
        assert_eq!(ascii_fold("Čuđe"), "cude");
        assert_eq!(ascii_fold("Tor Einar"), "toreinar");
    }

    #[test]
    fn pools_carry_the_letters_the_product_must_handle() {
        let all: String = [&NORWEGIAN, &SAMI, &OTHER]
            .iter()
            .flat_map(|p| p.girls.iter().chain(p.boys).chain(p.families))
            .copied()
            .collect();
        for c in ['æ', 'ø', 'å', 'Æ', 'Ø', 'Å', 'á', 'č', 'đ', 'ŋ', 'š', 'ŧ', 'ž', 'Š', 'Ŋ', 'Č', 'Ž', 'Ŧ']
        {
            assert!(all.contains(c), "no name with {c}");
        }
    }
}
