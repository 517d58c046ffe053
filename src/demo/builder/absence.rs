//! The standard demo's absence: the register per day at its primary school, and the
//! history written by [`crate::demo::history`].

use super::Builder;

impl Builder<'_> {
    /// The standard demo's absence: its primary school (1-7) takes the register per
    /// day, and the history of the autumn so far (see `history`).
    pub(super) fn absence(&mut self) {
        let Some(history) = self.history.take() else { return };
        for s in 0..self.schools.len() {
            let plan = self.plan_of(s);
            if plan.first == 1 && plan.last == 7 {
                self.t.school_settings.uuid(self.tenant).uuid(self.schools[s].id).text("day").end();
            }
        }
        history.write(self.tenant, self.plan.seed, &self.years, &mut self.t);
    }
}
