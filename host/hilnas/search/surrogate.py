"""XGBoost surrogates with an uncertainty estimate (bootstrap ensemble).

HyT-NAS's released code fits one XGBoost model on the latest batch only, which gives no
uncertainty, so its UCB reduces to the mean. Here every objective gets ``n_models`` boosted
ensembles, each fit on a bootstrap resample of *all* evaluated points; the spread of their
predictions is the uncertainty UCB/EI need (bootstrap variance is a standard, cheap stand-in
for a posterior when trees, not GPs, model the objective).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import xgboost as xgb


@dataclass
class SurrogateConfig:
    n_models: int = 5
    n_rounds: int = 200
    #: tree depths tried; with several, 3-fold cross-validation on the evaluated points picks
    #: one per fit (shallow trees win on near-additive objectives, deep ones on interactions)
    depths: tuple[int, ...] = (2, 4)
    learning_rate: float = 0.2
    threads: int = 1


class EnsembleSurrogate:
    """One objective's model: ``fit(X, y)``, then ``predict(X) -> (mean, std)``."""

    def __init__(self, config: SurrogateConfig | None = None, seed: int = 0) -> None:
        self.config = config or SurrogateConfig()
        self.seed = seed
        self.boosters: list[xgb.Booster] = []
        self._y_mean = 0.0
        self._y_scale = 1.0

    def fit(self, x: np.ndarray, y: np.ndarray) -> EnsembleSurrogate:
        x = np.asarray(x, dtype=np.float32)
        y = np.asarray(y, dtype=np.float64)
        self._y_mean = float(y.mean())
        self._y_scale = float(y.std()) or 1.0
        target = (y - self._y_mean) / self._y_scale
        rng = np.random.default_rng(self.seed)
        cfg = self.config
        self.depth = self._pick_depth(x, target, rng)
        params = {
            "max_depth": self.depth,
            "eta": cfg.learning_rate,
            "nthread": cfg.threads,
            "tree_method": "hist",
            "objective": "reg:squarederror",
            "min_child_weight": 1.0,
            "verbosity": 0,
        }
        self.boosters = []
        for m in range(cfg.n_models):
            idx = rng.integers(0, len(x), len(x)) if cfg.n_models > 1 else np.arange(len(x))
            dtrain = xgb.DMatrix(x[idx], label=target[idx], nthread=cfg.threads)
            self.boosters.append(
                xgb.train({**params, "seed": self.seed * 1000 + m}, dtrain, cfg.n_rounds)
            )
        return self

    def _params(self, depth: int) -> dict[str, object]:
        return {
            "max_depth": depth,
            "eta": self.config.learning_rate,
            "nthread": self.config.threads,
            "tree_method": "hist",
            "objective": "reg:squarederror",
            "verbosity": 0,
            "seed": self.seed,
        }

    def _pick_depth(self, x: np.ndarray, y: np.ndarray, rng: np.random.Generator) -> int:
        depths = self.config.depths
        if len(depths) == 1 or len(x) < 12:
            return depths[0]
        folds = np.array_split(rng.permutation(len(x)), 3)
        errors = []
        for depth in depths:
            err = 0.0
            for k, test in enumerate(folds):
                train = np.concatenate([f for j, f in enumerate(folds) if j != k])
                dtrain = xgb.DMatrix(x[train], label=y[train], nthread=self.config.threads)
                booster = xgb.train(self._params(depth), dtrain, self.config.n_rounds)
                pred = booster.predict(xgb.DMatrix(x[test], nthread=self.config.threads))
                err += float(np.sum((pred - y[test]) ** 2))
            errors.append(err)
        return depths[int(np.argmin(errors))]

    def members(self, x: np.ndarray) -> np.ndarray:
        """Every ensemble member's prediction (rows = members): posterior-like samples."""
        dm = xgb.DMatrix(np.asarray(x, dtype=np.float32), nthread=self.config.threads)
        preds = np.stack([b.predict(dm) for b in self.boosters]).astype(np.float64)
        return preds * self._y_scale + self._y_mean

    def predict(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        preds = self.members(x)
        return preds.mean(axis=0), preds.std(axis=0)
