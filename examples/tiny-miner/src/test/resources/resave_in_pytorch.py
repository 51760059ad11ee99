# Loads a tiny-miner checkpoint into PyTorch's own nn.Sequential, torch.optim.AdamW and LambdaLR, and saves their
# state_dict()s with torch.save: the checkpoint the Java miner resumes from next is PyTorch's.
import sys
import torch
from torch import nn

source, target = sys.argv[1], sys.argv[2]
ck = torch.load(source, map_location="cpu")
model = nn.Sequential(nn.Linear(32, 128), nn.Tanh(), nn.Linear(128, 128), nn.Tanh(), nn.Linear(128, 1))
opt = torch.optim.AdamW(model.parameters(), lr=3e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.01)
sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda epoch: min(1.0, (epoch + 1) / 50))
model.load_state_dict(ck["model_state_dict"])
opt.load_state_dict(ck["optimizer_state_dict"])
sched.load_state_dict(ck["scheduler_state_dict"])
step = ck["global_step"]
assert sched.last_epoch == step, (sched.last_epoch, step)
assert opt.param_groups[0]["lr"] == sched.get_last_lr()[0] == 3e-3 * min(1.0, (step + 1) / 50)
assert all(float(s["step"]) == step for s in opt.state_dict()["state"].values())
torch.save({"global_step": step, "model_state_dict": model.state_dict(), "optimizer_state_dict": opt.state_dict(),
            "scheduler_state_dict": sched.state_dict()}, target)
print("resaved global_step", step)
