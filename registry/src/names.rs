//! Generated run names: `<adjective>-<noun>-<number>`, the shape MLflow gives unnamed runs.

use rand::Rng;
use rand::seq::IndexedRandom;

const ADJECTIVES: &[&str] = &[
    "agile", "amber", "ample", "astute", "bold", "brave", "bright", "brisk", "calm", "clever", "cool", "crisp",
    "daring", "deft", "eager", "early", "easy", "fair", "fast", "fleet", "fluent", "gentle", "glad", "grand", "happy",
    "hardy", "honest", "humble", "jolly", "keen", "kind", "lively", "lucid", "lucky", "merry", "mighty", "nimble",
    "noble", "plucky", "polite", "proud", "quick", "quiet", "rapid", "ready", "robust", "rosy", "sharp", "shiny",
    "silent", "sleek", "smart", "snappy", "solid", "steady", "sunny", "swift", "tidy", "upbeat", "vivid", "warm",
    "wise", "witty", "zesty",
];

const NOUNS: &[&str] = &[
    "ant", "badger", "bat", "bear", "bee", "bison", "boar", "carp", "cat", "colt", "crab", "crane", "crow", "deer",
    "dove", "duck", "eagle", "eel", "elk", "falcon", "finch", "fox", "frog", "gecko", "goat", "goose", "gull", "hare",
    "hawk", "heron", "horse", "ibis", "jay", "koala", "lark", "lemur", "lion", "lynx", "mink", "mole", "moose", "newt",
    "otter", "owl", "panda", "puma", "quail", "ram", "raven", "robin", "seal", "shark", "sloth", "snail", "stork",
    "swan", "tiger", "toad", "trout", "wasp", "whale", "wolf", "wren", "yak",
];

/// A fresh run name such as `brisk-otter-417`.
pub fn generate_run_name() -> String {
    let mut rng = rand::rng();
    let adjective = ADJECTIVES.choose(&mut rng).copied().unwrap_or("quick");
    let noun = NOUNS.choose(&mut rng).copied().unwrap_or("fox");
    format!("{adjective}-{noun}-{}", rng.random_range(0..1000))
}

#[cfg(test)]
mod tests {
    #[test]
    fn names_have_mlflows_shape() {
        let re = regex::Regex::new(r"^[a-z]+-[a-z]+-\d{1,3}$").unwrap();
        for _ in 0..100 {
            assert!(re.is_match(&super::generate_run_name()));
        }
    }
}
