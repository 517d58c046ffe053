//! The Content Security Policy Tavle serves (see `security::headers`).

/// No inline script or style anywhere: everything comes from /static. Images may be
/// data: URIs because the design system draws its icons that way. `form-action`
/// lists the identity providers, since signing out redirects a form post to them.
pub fn content_security_policy(extra_form_targets: &[String]) -> String {
    let mut form_action = String::from("'self'");
    for t in extra_form_targets {
        form_action.push(' ');
        form_action.push_str(t);
    }
    format!(
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
         font-src 'self'; connect-src 'self'; form-action {form_action}; frame-ancestors 'none'; \
         base-uri 'none'; object-src 'none'"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csp_has_no_inline_anything() {
        let csp = content_security_policy(&[]);
        assert!(!csp.contains("unsafe-inline"));
        assert!(csp.contains("frame-ancestors 'none'"));
    }
}
