"""The reference LongRoPE search (microsoft/LongRoPE, evolution/ dim_mono) as a peer, scored by `longrope eval`.

The reference's genetic algorithm runs unchanged from a checkout outside this project (--reference DIR;
nothing of it is copied here). Only its evaluator is replaced: instead of a socket to a transformers
process per GPU, each batch of candidates it queues (the initial population, then each generation's
mutants, then its crossovers) is written as factor tables and scored in one `longrope eval` on the
benchmark's search set (search_efficiency.SEARCH_SET on books/valid at ratio x L). The reference's
evaluator pool also fills a batch before reading any score, so batching changes no decision.

Our settings -> the reference's hyper-parameters (evo_scale 1):
  --population P -> population_size   --generations T -> max_time_budget   --mutants N1 -> mutation_numbers
  --crossovers N2 -> crossover_size   --parents k -> parents_size
  max_crossover_try (20) and list_step (0.01) come from its default_hyper_params/dim_mono.json.
  Both plan P + T(N1 + N2) evaluations (192 for the default 32/10/8/8/16); --seed seeds numpy and
  random as the reference's set_seed does (its own runs use 42).
What differs from `longrope search` with the same settings:
  - Seeds: the reference starts from ONE table, its YaRN-shaped blend λ_i = 1 + (s-1)·ramp_i (our
    "yarn-shaped" seed; ramp from its YaRN class, β 32/1, or 128/2 for Mistral), and fills the
    population with P-1 mutants of it; ours also seeds PI, NTK and YaRN and mutates them round-robin.
  - n̂ is not searched (0: its dim_mono evaluates LongRoPEScaledRotaryEmbedding, no start tokens).
  - λ upper bound 1 + s (ours: 1.25·s by default, --bound reference for 1 + s); the float arange
    it draws from can add one 0.01 step at some s (17.01 at 16x).
  - No absolute grid: a mutated λ_i is its left neighbour plus a multiple of 0.01, so λ is off
    our 1 + k·0.01 grid wherever the fractional YaRN-shaped values propagate.
  - Mutation: each gene with p 0.3 is redrawn between its neighbours, but λ_0 in [1, λ_1) (the right
    end excluded), and a pass that gives a seen or unordered child is followed by another pass on
    the same child (not on the parent).
  - The winner is the best on the search windows (no validation re-scoring of the top 4).
  - Attention factor: su, sqrt(1 + ln s / ln L), as ours; the table leaves attention_factor null so
    that eval applies it.
Usage: ~/.cache/longrope-venv/bin/python bench/reference_ga.py --reference DIR --ratio 16 --out OUT
       [--model DIR] [--seed 42] [--population 32 --generations 10 --mutants 8 --crossovers 8 --parents 16]
       [--reference-commit SHA] [--threads N] [--longrope PATH]
"""
import argparse
import importlib.util
import json
import logging
import os
import random
import subprocess
import sys
import tempfile
import time

from benchlib import REPO, VENV_PYTHON, default_longrope
from search_efficiency import BOOKS, EVOLUTION, SEARCH_SET

try:
    import numpy as np
except ImportError:  # the reference needs numpy (and torch for its YaRN class): rerun under the venv
    venv = os.path.dirname(os.path.dirname(VENV_PYTHON))
    if os.path.exists(VENV_PYTHON) and os.path.realpath(sys.prefix) != os.path.realpath(venv):
        os.execv(VENV_PYTHON, [VENV_PYTHON] + sys.argv)
    raise

DOCS = int(SEARCH_SET[SEARCH_SET.index("--docs") + 1])


class LongropeEvalQueue:
    """Stands in for the reference's EvaluatorQueue: push() collects, join() scores the batch in one eval."""

    def __init__(self, args, config, length, tmpdir):
        self.args, self.config, self.length, self.tmpdir = args, config, length, tmpdir
        self.pending = []
        self.scored = []  # (λ, ppl) of every candidate scored

    def push(self, indv, rope_args):
        self.pending.append((indv, rope_args["rescale_factors"]))

    def join(self):
        if not self.pending:
            return
        methods = []
        for i, (_, factors) in enumerate(self.pending):
            path = os.path.join(self.tmpdir, f"c{i}.json")
            write_table(path, self.args, self.config, self.length, factors, {})
            methods.append("table:" + path)
        out = os.path.join(self.tmpdir, "scores.json")
        cmd = [self.args.longrope, "eval", "--model", self.args.model, "--data", os.path.join(BOOKS, "valid"),
               "--length", str(self.length), "--method", ",".join(methods), "--threads", str(self.args.threads), "--dtype", self.args.dtype,
               "--json", out] + SEARCH_SET
        done = subprocess.run(cmd, capture_output=True, text=True)
        if done.returncode != 0:
            sys.exit(f"longrope eval failed ({done.returncode}):\n{done.stderr}")
        with open(out) as f:
            ppl = {r["method"]: r["ppl"] for r in json.load(f)["results"]}
        for (indv, factors), method in zip(self.pending, methods):
            indv.ppl = ppl[method]
            self.scored.append((factors, indv.ppl))
        print(f"scored {len(self.pending)} (total {len(self.scored)}), best ppl {min(s for _, s in self.scored):.5f}",
              flush=True)
        self.pending = []


def write_table(path, args, config, length, factors, details):
    # start_tokens 0 and attention_factor null (su for `scale`): what the reference's evaluator applies.
    table = {"format": "longrope-factor-table", "version": 1, "model": os.path.relpath(args.model, REPO),
             "rope_base": float(config["rope_theta"]), "head_dim": 2 * len(factors),
             "original_length": config["max_position_embeddings"], "target_length": length, "scale": float(args.ratio),
             "lambda": [float(x) for x in factors], "start_tokens": 0, "attention_factor": None, **details}
    with open(path + ".tmp", "w") as f:
        json.dump(table, f, indent=2)
        f.write("\n")
    os.replace(path + ".tmp", path)


def yarn_shaped_init(reference, config, length, ratio):
    """The reference's default initial factors (search.py without --init-factors), from its own YaRN class."""
    # Loaded by path: rope/__init__.py would pull in its model loader and memory patches.
    spec = importlib.util.spec_from_file_location("reference_yarn", os.path.join(reference, "rope", "yarn.py"))
    yarn = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(yarn)
    mistral = config.get("model_type") in ("mistral", "mixtral")
    head_dim = config.get("head_dim") or config["hidden_size"] // config["num_attention_heads"]
    emb = yarn.YaRNScaledRotaryEmbedding(
        dim=head_dim, max_position_embeddings=length, base=config["rope_theta"], scale=float(ratio),
        original_max_position_embeddings=config["max_position_embeddings"], model_type="mistral" if mistral else "llama",
        beta_fast=128 if mistral else 32, beta_slow=2 if mistral else 1)
    mask = emb.inv_freq_mask.detach().cpu().numpy().astype(np.float64)
    return float(ratio) * (1 - mask) + 1.0 * mask, head_dim


def reference_commit(args):
    if args.reference_commit:
        return args.reference_commit
    # Only when --reference is itself a checkout's top (an extracted archive inside another repository is not).
    done = subprocess.run(["git", "-C", args.reference, "rev-parse", "--show-toplevel", "HEAD"], capture_output=True, text=True)
    lines = done.stdout.split()
    if done.returncode == 0 and len(lines) == 2 and os.path.realpath(lines[0]) == os.path.realpath(args.reference):
        return lines[1]
    return "unknown"


def main():
    ours = dict(zip(EVOLUTION[::2], EVOLUTION[1::2]))  # the benchmark's `evolution` settings
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--reference", required=True, help="a microsoft/LongRoPE checkout (its evolution/ and rope/)")
    p.add_argument("--reference-commit", help="its commit, for the table (default: git rev-parse in --reference)")
    p.add_argument("--model", default=os.path.join(REPO, "models", "shipped", "books-bytes-3m-l64"))
    p.add_argument("--ratio", type=int, required=True)
    p.add_argument("--seed", type=int, default=42)
    for name in ("population", "generations", "mutants", "crossovers", "parents"):
        p.add_argument(f"--{name}", type=int, default=int(ours[f"--{name}"]))
    p.add_argument("--longrope", default=default_longrope())
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--dtype", default="f32", choices=["f32", "bf16"])
    p.add_argument("--out", required=True)
    args = p.parse_args()
    if args.parents > args.population:
        p.error("--parents must not exceed --population (the reference asserts it)")
    args.out = os.path.abspath(args.out)
    if "," in args.out:
        p.error("--out must not contain a comma (eval's --method list is comma-separated)")

    sys.path.insert(0, os.path.abspath(args.reference))
    os.environ.setdefault("TQDM_DISABLE", "1")  # its progress bars; the queue prints one line per batch
    from evolution.algorithms import DimMonoGeneticAlgorithm

    with open(os.path.join(args.model, "config.json")) as f:
        config = json.load(f)
    length = args.ratio * config["max_position_embeddings"]
    init, head_dim = yarn_shaped_init(args.reference, config, length, args.ratio)

    log_dir = os.path.join(args.out, "reference-log")  # the reference's own per-generation log and CSVs
    os.makedirs(log_dir, exist_ok=True)
    logging.basicConfig(level=logging.INFO, filename=os.path.join(log_dir, "log.txt"), filemode="w",
                        format="[%(asctime)s] %(message)s")
    with open(os.path.join(args.reference, "evolution", "default_hyper_params", "dim_mono.json")) as f:
        hyper = json.load(f)
    hyper.update(evo_scale=1.0, population_size=args.population, max_time_budget=args.generations,
                 mutation_numbers=args.mutants, crossover_size=args.crossovers, parents_size=args.parents)
    rope_args = {"dim": head_dim, "scale": float(args.ratio), "max_position_embeddings": length,
                 "original_max_position_embeddings": config["max_position_embeddings"], "base": config["rope_theta"],
                 "model_type": "llama"}

    random.seed(args.seed)
    np.random.seed(args.seed)
    start = time.monotonic()
    with tempfile.TemporaryDirectory(dir=args.out) as tmpdir:
        ga = DimMonoGeneticAlgorithm(evaluators=[], scale=float(args.ratio), target_length=length, hyper_params=hyper,
                                     init_factors=init, rope_args=rope_args,
                                     log_json_path=os.path.join(log_dir, "log.json"), output_dir=log_dir)
        queue = ga.queue = LongropeEvalQueue(args, config, length, tmpdir)
        best = ga.run_genetic_algorithm()
    wall = time.monotonic() - start
    search_ppl = next(s for f, s in queue.scored if np.allclose(f, best))
    evaluations = len(queue.scored)
    details = {"evaluations": evaluations, "document_forwards": evaluations * DOCS, "wall_time_s": wall,
               "source": f"microsoft/LongRoPE evolution dim_mono, commit {reference_commit(args)}",
               "search_ppl": search_ppl, "search_data": os.path.relpath(os.path.join(BOOKS, "valid"), REPO),
               "search_documents": DOCS, "seed": args.seed, "reference_hyper_params": hyper}
    path = os.path.join(args.out, "table.json")
    write_table(path, args, config, length, best, details)
    print(f"wrote {path}: search ppl {search_ppl:.5f}, {evaluations} evaluations in {wall:.0f} s")


if __name__ == "__main__":
    main()
