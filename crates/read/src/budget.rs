//! The pixels decoded at once, across every page being read: `limits.max_pixels_in_flight`.
//!
//! `limits.max_pixels_per_page` bounds one page; this bounds their sum, so memory stays the same
//! whether one or eight pages (of one document or several) are read at the same time. A page
//! reserves its pixels before it is decoded or rendered and gives them back when its raster is
//! dropped; a page that does not fit waits until others are done. A page larger than the whole
//! budget (the configuration refuses that) would be read alone, never refused.

use std::sync::{Arc, Condvar, Mutex};

#[derive(Debug)]
pub struct PixelBudget {
    total: u64,
    state: Mutex<State>,
    freed: Condvar,
}

#[derive(Debug, Default)]
struct State {
    used: u64,
    /// The most ever reserved at once.
    peak: u64,
}

/// Pixels held by one raster; given back when dropped.
#[derive(Debug)]
pub struct Held {
    budget: Arc<PixelBudget>,
    pixels: u64,
}

impl PixelBudget {
    pub fn new(total: u64) -> Arc<PixelBudget> {
        Arc::new(PixelBudget { total, state: Mutex::default(), freed: Condvar::new() })
    }

    /// Reserves `pixels`, waiting (blocking the thread) until they fit beside what other pages
    /// hold; alone, a page always fits.
    pub fn reserve(self: &Arc<Self>, pixels: u64) -> Held {
        let mut s = self.state.lock().unwrap_or_else(|e| e.into_inner());
        while s.used > 0 && s.used.saturating_add(pixels) > self.total {
            s = self.freed.wait(s).unwrap_or_else(|e| e.into_inner());
        }
        s.used += pixels;
        s.peak = s.peak.max(s.used);
        Held { budget: self.clone(), pixels }
    }

    /// Counts `pixels` at once, over the budget if need be: a copy made of a page already in
    /// flight (the clean-up's flattened, despeckled, evened, straightened or turned page). Pages
    /// reserved while it lives wait until it is dropped; the copy itself never waits, since a
    /// thread holding a page that waited for room could wait on itself.
    pub fn charge(self: &Arc<Self>, pixels: u64) -> Held {
        let mut s = self.state.lock().unwrap_or_else(|e| e.into_inner());
        s.used += pixels;
        s.peak = s.peak.max(s.used);
        Held { budget: self.clone(), pixels }
    }

    /// The most pixels ever held at once.
    pub fn peak(&self) -> u64 {
        self.state.lock().unwrap_or_else(|e| e.into_inner()).peak
    }

    pub fn total(&self) -> u64 {
        self.total
    }
}

impl Held {
    /// Another `pixels` counted in the same budget, at once ([`PixelBudget::charge`]).
    pub fn charge(&self, pixels: u64) -> Held {
        self.budget.charge(pixels)
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        let mut s = self.budget.state.lock().unwrap_or_else(|e| e.into_inner());
        s.used -= self.pixels;
        self.budget.freed.notify_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn a_page_that_does_not_fit_waits_until_another_is_done() {
        let budget = PixelBudget::new(100);
        let first = budget.reserve(60);
        let (tx, rx) = std::sync::mpsc::channel();
        let b = budget.clone();
        let waiting = std::thread::spawn(move || {
            let held = b.reserve(50);
            tx.send(()).unwrap();
            drop(held);
        });
        assert!(rx.recv_timeout(Duration::from_millis(300)).is_err(), "60 + 50 does not fit in 100");
        drop(first);
        rx.recv_timeout(Duration::from_secs(5)).expect("reserved once the first was given back");
        waiting.join().unwrap();
        assert_eq!(budget.peak(), 60);
        // Two that fit are held together; one larger than the budget goes alone.
        let (a, b) = (budget.reserve(40), budget.reserve(60));
        assert_eq!(budget.peak(), 100);
        drop((a, b));
        let big = budget.reserve(500);
        assert_eq!(budget.peak(), 500);
        drop(big);
    }
}
