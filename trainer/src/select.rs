//! Hyper-parameters chosen by rolling-origin validation: each candidate (learning rate, tree
//! depth) is fitted on the seasons before each validation season and scored on that season
//! after every few rounds; the number of rounds is where the mean validation AUC peaks (early
//! stopping on the validation seasons), and the candidate with the best peak wins.

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use ndarray::{Array2, Axis};
use serde::{Deserialize, Serialize};

use crate::boost::{BoostParams, Boosted, Learner};
use crate::error::{Result, TrainError};
use crate::metrics::auc;
use crate::seasons::{rows_before, rows_of};

/// The search a run makes unless told otherwise; README's "Choosing the defaults" gives the
/// figures that chose it.
impl Default for Search {
    fn default() -> Self {
        // Depth 2 validated worse than stumps at every learning rate and costs three times as
        // much a round; 0.02 needed its whole 600-round cap to come within 0.001 of 0.05 (see
        // the README): the default search leaves both out, to keep the whole fit in seconds.
        let candidate = |learning_rate| Candidate { learning_rate, max_depth: 1, max_rounds: 500 };
        Search { candidates: vec![candidate(0.05), candidate(0.1)], check_every: 25, early_stopping: true }
    }
}

impl Search {
    /// The search with some settings fixed: a learning rate or a depth replaces the values
    /// searched over; a number of rounds is taken as it is (no early stopping).
    pub fn pinned(mut self, learning_rate: Option<f64>, max_depth: Option<usize>, rounds: Option<usize>) -> Self {
        for c in &mut self.candidates {
            c.learning_rate = learning_rate.unwrap_or(c.learning_rate);
            c.max_depth = max_depth.unwrap_or(c.max_depth);
            c.max_rounds = rounds.unwrap_or(c.max_rounds);
        }
        if rounds.is_some() {
            self.early_stopping = false;
        }
        let mut unique: Vec<Candidate> = Vec::with_capacity(self.candidates.len());
        for c in self.candidates {
            if !unique.contains(&c) {
                unique.push(c);
            }
        }
        self.candidates = unique;
        self
    }
}

/// One setting to validate: rounds are chosen up to `max_rounds`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Candidate {
    pub learning_rate: f64,
    pub max_depth: usize,
    pub max_rounds: usize,
}

/// What validation searches over.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Search {
    pub candidates: Vec<Candidate>,
    /// Rounds between two validation checks; rounds are chosen among their multiples.
    pub check_every: usize,
    /// Whether rounds are chosen by the validation seasons; else every candidate runs its
    /// `max_rounds`.
    pub early_stopping: bool,
}

/// A candidate's validation result at its chosen number of rounds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Validated {
    pub candidate: Candidate,
    /// The rounds chosen.
    pub rounds: usize,
    /// Mean AUC over the validation seasons at those rounds.
    pub mean_auc: f64,
    /// (season, AUC) at those rounds.
    pub per_season: Vec<(i32, f64)>,
}

impl Validated {
    /// The boosting parameters this result stands for.
    pub fn params(&self) -> BoostParams {
        BoostParams {
            n_estimators: self.rounds,
            learning_rate: self.candidate.learning_rate,
            max_depth: self.candidate.max_depth,
            learner: Learner::Presorted,
        }
    }
}

/// Every candidate's result, in the search's order, and the winner.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Selection {
    pub results: Vec<Validated>,
    /// Index of the winner in `results`.
    pub best: usize,
}

impl Selection {
    pub fn best(&self) -> &Validated {
        &self.results[self.best]
    }
}

/// Validates every candidate of `search` on the `validation` seasons: for each season S, fits
/// on the rows of `x` whose season is before S and scores the rows of S. Fits run on all
/// cores; the result does not depend on their number or order.
pub fn select(x: &Array2<f64>, y: &[u8], seasons: &[i32], validation: &[i32], search: &Search) -> Result<Selection> {
    if search.candidates.is_empty() || search.check_every == 0 || validation.is_empty() {
        return Err(TrainError::Settings("validation needs a candidate, a season and check_every ≥ 1".into()));
    }
    let jobs: Vec<(usize, usize)> =
        (0..search.candidates.len()).flat_map(|c| (0..validation.len()).map(move |s| (c, s))).collect();
    // Each job: the validation AUC after every `check_every` rounds.
    let curves: Vec<Mutex<Option<Result<Vec<f64>>>>> = jobs.iter().map(|_| Mutex::new(None)).collect();
    let next = AtomicUsize::new(0);
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get()).min(jobs.len());
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| {
                loop {
                    let k = next.fetch_add(1, Ordering::Relaxed);
                    let Some(&(c, s)) = jobs.get(k) else { break };
                    let curve =
                        validation_curve(x, y, seasons, validation[s], &search.candidates[c], search.check_every);
                    *curves[k].lock().expect("no worker panics while holding it") = Some(curve);
                }
            });
        }
    });
    let mut curves = curves.into_iter().map(|m| m.into_inner().expect("not poisoned").expect("every job ran"));
    let mut results = Vec::with_capacity(search.candidates.len());
    for candidate in &search.candidates {
        let per_fold: Vec<Vec<f64>> =
            (0..validation.len()).map(|_| curves.next().expect("one per job")).collect::<Result<_>>()?;
        let checks = per_fold[0].len();
        let mean_at = |k: usize| per_fold.iter().map(|c| c[k]).sum::<f64>() / per_fold.len() as f64;
        // The earliest check with the best mean: fewer rounds win a tie.
        let chosen = match search.early_stopping {
            true => (0..checks).fold(0, |best, k| if mean_at(k) > mean_at(best) { k } else { best }),
            false => checks - 1,
        };
        let rounds = ((chosen + 1) * search.check_every).min(candidate.max_rounds);
        results.push(Validated {
            candidate: *candidate,
            rounds,
            mean_auc: mean_at(chosen),
            per_season: validation.iter().zip(&per_fold).map(|(&s, c)| (s, c[chosen])).collect(),
        });
    }
    // The first best candidate wins a tie: the search lists the simpler ones first.
    let best = (0..results.len()).fold(0, |b, k| if results[k].mean_auc > results[b].mean_auc { k } else { b });
    Ok(Selection { results, best })
}

/// Fits `candidate` on the seasons before `season` and answers the AUC on `season` after
/// `check_every`, 2·`check_every`, … rounds up to `max_rounds` (the last check at
/// `max_rounds`). A fit that stops early keeps its last value.
fn validation_curve(
    x: &Array2<f64>,
    y: &[u8],
    seasons: &[i32],
    season: i32,
    candidate: &Candidate,
    check_every: usize,
) -> Result<Vec<f64>> {
    let (train, valid) = (rows_before(seasons, season), rows_of(seasons, season));
    let x_train = x.select(Axis(0), &train);
    let y_train: Vec<u8> = train.iter().map(|&i| y[i]).collect();
    let x_valid = x.select(Axis(0), &valid);
    let y_valid: Vec<u8> = valid.iter().map(|&i| y[i]).collect();
    let params = BoostParams {
        n_estimators: candidate.max_rounds,
        learning_rate: candidate.learning_rate,
        max_depth: candidate.max_depth,
        learner: Learner::Presorted,
    };
    let model = Boosted::fit(&x_train, &y_train, &params, |_| {})?;
    let checks = candidate.max_rounds.div_ceil(check_every);
    // AdaBoost's probability is a monotone function of Σ α·s over the rounds so far, so the
    // running sum ranks the rows as the model cut at that round does.
    let mut score = vec![0.0; valid.len()];
    let mut curve = Vec::with_capacity(checks);
    let undefined = || TrainError::OneClassSplit { set: "validation", value: y_valid[0], rows: y_valid.len() };
    for k in 0..checks {
        let upto = ((k + 1) * check_every).min(candidate.max_rounds).min(model.trees.len());
        let from = (k * check_every).min(upto);
        for m in from..upto {
            let (tree, alpha) = (&model.trees[m], model.alphas[m]);
            for (s, row) in score.iter_mut().zip(x_valid.rows()) {
                *s += if tree.predict_row(row) == 1 { alpha } else { -alpha };
            }
        }
        curve.push(auc(&y_valid, &score).ok_or_else(undefined)?);
    }
    Ok(curve)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Rows over four seasons whose label is x > 0.5 with some noise in a second column.
    fn data() -> (Array2<f64>, Vec<u8>, Vec<i32>) {
        let n = 400;
        let mut x = Array2::zeros((n, 2));
        let mut y = Vec::with_capacity(n);
        let mut seasons = Vec::with_capacity(n);
        for i in 0..n {
            let a = ((i * 37) % 101) as f64 / 100.0;
            let b = ((i * 53) % 97) as f64 / 96.0;
            x[[i, 0]] = a;
            x[[i, 1]] = b;
            y.push(u8::from(a + 0.2 * b > 0.6));
            seasons.push(2000 + (i % 4) as i32);
        }
        (x, y, seasons)
    }

    #[test]
    fn the_best_candidate_wins_and_rounds_are_multiples_of_the_check() {
        let (x, y, seasons) = data();
        let search = Search {
            candidates: vec![
                Candidate { learning_rate: 0.5, max_depth: 1, max_rounds: 40 },
                Candidate { learning_rate: 0.5, max_depth: 2, max_rounds: 40 },
            ],
            check_every: 10,
            early_stopping: true,
        };
        let selection = select(&x, &y, &seasons, &[2002, 2003], &search).unwrap();
        assert_eq!(selection.results.len(), 2);
        for r in &selection.results {
            assert!(r.rounds % 10 == 0 && r.rounds <= 40, "{r:?}");
            assert_eq!(r.per_season.iter().map(|(s, _)| *s).collect::<Vec<_>>(), [2002, 2003]);
            let mean = r.per_season.iter().map(|(_, a)| a).sum::<f64>() / 2.0;
            assert!((mean - r.mean_auc).abs() < 1e-12);
        }
        let best = selection.best();
        assert!(selection.results.iter().all(|r| r.mean_auc <= best.mean_auc));
        assert!(best.mean_auc > 0.9, "{best:?}");
        // The same search again gives the same answer, whatever the threads did.
        assert_eq!(select(&x, &y, &seasons, &[2002, 2003], &search).unwrap(), selection);
    }

    #[test]
    fn pinned_settings_replace_the_searched_ones() {
        let search = Search::default().pinned(None, Some(2), None);
        assert!(search.candidates.iter().all(|c| c.max_depth == 2));
        assert_eq!(search.candidates.len(), Search::default().candidates.len());
        assert!(search.early_stopping);
        let search = Search::default().pinned(Some(0.1), None, None);
        assert_eq!(search.candidates.len(), 1, "duplicates go: {search:?}");
        let fixed = Search::default().pinned(Some(0.1), Some(1), Some(300));
        assert_eq!(fixed.candidates, [Candidate { learning_rate: 0.1, max_depth: 1, max_rounds: 300 }]);
        assert!(!fixed.early_stopping);
    }

    #[test]
    fn without_early_stopping_every_candidate_runs_its_rounds() {
        let (x, y, seasons) = data();
        let search = Search {
            candidates: vec![Candidate { learning_rate: 0.5, max_depth: 1, max_rounds: 25 }],
            check_every: 10,
            early_stopping: false,
        };
        let selection = select(&x, &y, &seasons, &[2003], &search).unwrap();
        assert_eq!(selection.best().rounds, 25);
    }
}
