//! The main menu and the start page come from one list (`tavle::web::places`): for
//! every role, each menu entry has a card on the start page and each card a menu
//! entry, so that neither can grow a place the other lacks.

use std::collections::BTreeSet;

use crate::authz::PERSONAS;
use axum::http::StatusCode;

use crate::helpers::spawn_app;

#[tokio::test]
async fn every_menu_entry_has_a_start_page_card_and_every_card_a_menu_entry() {
    let app = spawn_app().await;
    let mut seen = BTreeSet::new();
    for persona in PERSONAS.iter().filter(|p| !p.is_empty()) {
        let mut b = app.sign_in_as(persona).await;
        let home = app.get(&mut b, "/").await;
        assert_eq!(home.status, StatusCode::OK, "{persona}");
        let html = home.html();
        // The start page itself is first in the menu and has no card.
        let menu: BTreeSet<String> =
            html.select_attrs("nav.tavle-nav a", "href").into_iter().filter(|h| h != "/").collect();
        // A card for a person (a pupil's own, a guardian's children) leads to one record.
        let cards: BTreeSet<String> =
            html.select_attrs("main a.ds-card", "href").into_iter().filter(|h| !h.starts_with("/pupils/")).collect();
        assert!(!menu.is_empty(), "{persona} has a menu");
        assert_eq!(menu, cards, "{persona}: the menu and the start page's cards differ");
        seen.extend(menu);
    }
    // The places that once had a menu entry but no card are among them.
    for place in ["/absence", "/sfo", "/mail", "/absence/statistics", "/absence/classes"] {
        assert!(seen.contains(place), "some role has {place}: {seen:?}");
    }
}
