//! The order in which the contenders a benchmark compares take their turns.

/// `(round, contender)` for each of `contenders` in each of `rounds` rounds. Every round
/// runs them all, starting one later than the round before, so that drift in the
/// machine's speed spreads over all of them instead of favouring whichever runs first.
pub fn turns(rounds: usize, contenders: usize) -> impl Iterator<Item = (usize, usize)> {
    (0..rounds).flat_map(move |round| (0..contenders).map(move |offset| (round, (round + offset) % contenders)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_round_starts_one_contender_later() {
        let turns: Vec<_> = turns(3, 2).collect();
        assert_eq!(turns, [(0, 0), (0, 1), (1, 1), (1, 0), (2, 0), (2, 1)]);
    }
}
