"Run by tests/test_distributed.py under 1 process or torchrun: one DRAGON round on a tiny seeded pipeline."
import sys, json, torch
from dragon_nb.train import DragonConfig, DragonTrainer
from dragon_nb.testing import tiny_dragon_pipeline
torch.set_num_threads(1)
cfg = DragonConfig(reward=sys.argv[1], rounds=1, prompts_per_round=6, demo_steps=2, run_dir=sys.argv[2], eval_prompts=2)
DragonTrainer(cfg, tiny_dragon_pipeline(seed=3), progress=False).fit(evaluate_at_end=False)
