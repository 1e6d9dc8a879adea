#!/usr/bin/python3
"""Trains the bundled model of the Shapes world and exports it as a diffusers-style ONNX folder.

The model is made the way real checkpoints are made, only small: a conditional U-Net shaped like
diffusers' UNet2DConditionModel (ResNet blocks, Transformer blocks with self-attention `attn1` and
cross-attention `attn2` over the text tokens, down, mid and up blocks), a small text encoder over the
Shapes vocabulary, trained together with the DDPM noise-prediction loss on 32 x 32 scenes seen through
a lossless space-to-depth "latent" (12 x 16 x 16, Stable Diffusion's latent layout at no training cost)
that the exported `vae_decoder` turns back into pixels by depth-to-space, plus a small grounding term
(grounding_loss) so that each named object is read from its own word where it is drawn.

Data: a folder written by `workers/src/shapes/training-set.ts` (images.u8, tokens.i32, meta.json,
tokenizer/), so the Shapes world has one definition. Run through `npm run train:bundled`, which
writes the data first; see models/bundled/README.md for the exact command and what it measured.

usage: train.py --data DIR --out MODEL_DIR [--steps N] [--batch B] [--seed S] [--threads T]
"""
import argparse, json, math, os, shutil, sys, time

# torch parallelises over its own threads; OpenBLAS threads on top of them only contend for the cores.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
# Spinning OpenMP threads make training several times slower as soon as anything else uses a core.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

TRAIN_TIMESTEPS = 1000
BETA_START, BETA_END = 1e-4, 0.02  # DDPM's linear schedule: pixel-like latents need the strong end
CHANNELS = (32, 64)
TEXT_WIDTH = 64
OPSET = 17
MAX_OBJECTS = 3
GROUNDING_WEIGHT = 0.05


class Attention(nn.Module):
    """diffusers' Attention with the plain (unfused) processor, so the export keeps attn2's Softmax."""

    def __init__(self, dim, context_dim, heads):
        super().__init__()
        self.heads, self.head_dim = heads, dim // heads
        self.to_q = nn.Linear(dim, dim, bias=False)
        self.to_k = nn.Linear(context_dim, dim, bias=False)
        self.to_v = nn.Linear(context_dim, dim, bias=False)
        self.to_out = nn.ModuleList([nn.Linear(dim, dim)])
        self.keep_probs = False
        self.probs = None

    def split_heads(self, x):
        b, n, _ = x.shape
        return x.reshape(b, n, self.heads, self.head_dim).permute(0, 2, 1, 3).reshape(b * self.heads, n, self.head_dim)

    def forward(self, x, context):
        b, n, _ = x.shape
        q, k, v = self.split_heads(self.to_q(x)), self.split_heads(self.to_k(context)), self.split_heads(self.to_v(context))
        probs = torch.bmm(q * self.head_dim ** -0.5, k.transpose(1, 2)).softmax(dim=-1)
        if self.keep_probs:
            self.probs = probs.reshape(b, self.heads, n, -1).mean(1)
        out = torch.bmm(probs, v).reshape(b, self.heads, n, self.head_dim).permute(0, 2, 1, 3).reshape(b, n, -1)
        return self.to_out[0](out)


class GEGLU(nn.Module):
    def __init__(self, dim, inner):
        super().__init__()
        self.proj = nn.Linear(dim, inner * 2)

    def forward(self, x):
        a, gate = self.proj(x).chunk(2, dim=-1)
        return a * F.gelu(gate)


class BasicTransformerBlock(nn.Module):
    """Self-attention is optional: at 16 x 16 it would cost more than the rest of the U-Net together."""

    def __init__(self, dim, context_dim, heads, self_attention):
        super().__init__()
        if self_attention:
            self.norm1, self.attn1 = nn.LayerNorm(dim), Attention(dim, dim, heads)
        self.norm2, self.attn2 = nn.LayerNorm(dim), Attention(dim, context_dim, heads)
        self.norm3, self.ff = nn.LayerNorm(dim), nn.ModuleList([GEGLU(dim, dim * 4), nn.Linear(dim * 4, dim)])

    def forward(self, x, context):
        if hasattr(self, "attn1"):
            h = self.norm1(x)
            x = x + self.attn1(h, h)
        x = x + self.attn2(self.norm2(x), context)
        return x + self.ff[1](self.ff[0](self.norm3(x)))


class Transformer2DModel(nn.Module):
    def __init__(self, channels, context_dim, heads, self_attention=True):
        super().__init__()
        self.norm = nn.GroupNorm(8, channels, eps=1e-6)
        self.proj_in = nn.Conv2d(channels, channels, 1)
        self.transformer_blocks = nn.ModuleList([BasicTransformerBlock(channels, context_dim, heads, self_attention)])
        self.proj_out = nn.Conv2d(channels, channels, 1)

    def forward(self, x, context):
        b, c, h, w = x.shape
        y = self.proj_in(self.norm(x)).permute(0, 2, 3, 1).reshape(b, h * w, c)
        y = self.transformer_blocks[0](y, context)
        return self.proj_out(y.reshape(b, h, w, c).permute(0, 3, 1, 2)) + x


class ResnetBlock2D(nn.Module):
    def __init__(self, cin, cout, temb):
        super().__init__()
        self.norm1, self.conv1 = nn.GroupNorm(8, cin), nn.Conv2d(cin, cout, 3, padding=1)
        self.time_emb_proj = nn.Linear(temb, cout)
        self.norm2, self.conv2 = nn.GroupNorm(8, cout), nn.Conv2d(cout, cout, 3, padding=1)
        self.conv_shortcut = nn.Conv2d(cin, cout, 1) if cin != cout else None

    def forward(self, x, temb):
        h = self.conv1(F.silu(self.norm1(x))) + self.time_emb_proj(F.silu(temb))[:, :, None, None]
        h = self.conv2(F.silu(self.norm2(h)))
        return (x if self.conv_shortcut is None else self.conv_shortcut(x)) + h


class Sampler(nn.Module):
    """diffusers' Downsample2D / Upsample2D: a strided conv, or nearest upsampling then a conv."""

    def __init__(self, channels, down):
        super().__init__()
        self.down = down
        self.conv = nn.Conv2d(channels, channels, 3, stride=2 if down else 1, padding=1)

    def forward(self, x):
        return self.conv(x if self.down else F.interpolate(x, scale_factor=2.0, mode="nearest"))


class Block(nn.Module):
    """One resolution of the U-Net: a ResNet block, a Transformer block, optionally a resampler."""

    def __init__(self, cin, cout, temb, context_dim, resample=None, self_attention=True):
        super().__init__()
        self.resnets = nn.ModuleList([ResnetBlock2D(cin, cout, temb)])
        self.attentions = nn.ModuleList([Transformer2DModel(cout, context_dim, heads=cout // 16, self_attention=self_attention)])
        if resample == "down":
            self.downsamplers = nn.ModuleList([Sampler(cout, down=True)])
        if resample == "up":
            self.upsamplers = nn.ModuleList([Sampler(cout, down=False)])

    def forward(self, x, temb, context):
        return self.attentions[0](self.resnets[0](x, temb), context)


class MidBlock(nn.Module):
    def __init__(self, channels, temb, context_dim):
        super().__init__()
        self.resnets = nn.ModuleList([ResnetBlock2D(channels, channels, temb), ResnetBlock2D(channels, channels, temb)])
        self.attentions = nn.ModuleList([Transformer2DModel(channels, context_dim, heads=channels // 16)])

    def forward(self, x, temb, context):
        return self.resnets[1](self.attentions[0](self.resnets[0](x, temb), context), temb)


class UNet2DConditionModel(nn.Module):
    """Latent 16 x 16: down_blocks.0 at 16 x 16 -> down_blocks.1 at 8 x 8 -> mid -> up_blocks.0 at 8 x 8 ->
    up_blocks.1 at 16 x 16. Every block cross-attends to the text; only the 8 x 8 ones self-attend."""

    def __init__(self, latent_channels=12, channels=CHANNELS, context_dim=TEXT_WIDTH):
        super().__init__()
        c0, c1 = channels
        temb = c0 * 4
        self.base = c0
        self.conv_in = nn.Conv2d(latent_channels, c0, 3, padding=1)
        self.time_embedding = nn.ModuleDict({"linear_1": nn.Linear(c0, temb), "linear_2": nn.Linear(temb, temb)})
        self.down_blocks = nn.ModuleList([Block(c0, c0, temb, context_dim, "down", self_attention=False), Block(c0, c1, temb, context_dim)])
        self.mid_block = MidBlock(c1, temb, context_dim)
        self.up_blocks = nn.ModuleList([Block(c1 * 2, c1, temb, context_dim, "up"), Block(c1 + c0, c0, temb, context_dim, self_attention=False)])
        self.conv_norm_out = nn.GroupNorm(8, c0)
        self.conv_out = nn.Conv2d(c0, latent_channels, 3, padding=1)

    def time_proj(self, timestep):
        half = self.base // 2
        freqs = torch.exp(-math.log(10000.0) * torch.arange(half, dtype=torch.float32) / half)
        angles = timestep[:, None].float() * freqs[None]
        return torch.cat([torch.cos(angles), torch.sin(angles)], dim=-1)

    def forward(self, sample, timestep, encoder_hidden_states):
        t = self.time_proj(timestep.expand(sample.shape[0]))
        temb = self.time_embedding["linear_2"](F.silu(self.time_embedding["linear_1"](t)))
        h = self.conv_in(sample)
        skip0 = self.down_blocks[0](h, temb, encoder_hidden_states)
        skip1 = self.down_blocks[1](self.down_blocks[0].downsamplers[0](skip0), temb, encoder_hidden_states)
        h = self.mid_block(skip1, temb, encoder_hidden_states)
        h = self.up_blocks[0].upsamplers[0](self.up_blocks[0](torch.cat([h, skip1], 1), temb, encoder_hidden_states))
        h = self.up_blocks[1](torch.cat([h, skip0], 1), temb, encoder_hidden_states)
        return self.conv_out(F.silu(self.conv_norm_out(h)))


class TextEncoderLayer(nn.Module):
    def __init__(self, width, heads):
        super().__init__()
        self.layer_norm1, self.self_attn = nn.LayerNorm(width), Attention(width, width, heads)
        self.layer_norm2 = nn.LayerNorm(width)
        self.mlp = nn.Sequential(nn.Linear(width, width * 4), nn.GELU(), nn.Linear(width * 4, width))

    def forward(self, x):
        h = self.layer_norm1(x)
        x = x + self.self_attn(h, h)
        return x + self.mlp(self.layer_norm2(x))


class TextEncoder(nn.Module):
    """CLIP-text-shaped in its inputs and outputs (input_ids -> last_hidden_state): token and position
    embeddings, two bidirectional Transformer layers, a final LayerNorm."""

    def __init__(self, vocab_size, max_length, width=TEXT_WIDTH, layers=2, heads=4):
        super().__init__()
        self.token_embedding = nn.Embedding(vocab_size, width)
        self.position_embedding = nn.Parameter(torch.randn(max_length, width) * 0.02)
        self.layers = nn.ModuleList([TextEncoderLayer(width, heads) for _ in range(layers)])
        self.final_layer_norm = nn.LayerNorm(width)

    def forward(self, input_ids):
        x = self.token_embedding(input_ids) + self.position_embedding
        for layer in self.layers:
            x = layer(x)
        return self.final_layer_norm(x)


class DepthToSpaceDecoder(nn.Module):
    """The "VAE decoder" of the space-to-depth latent: exact, no weights."""

    def forward(self, latent_sample):
        return F.pixel_shuffle(latent_sample, 2)


def load_data(data_dir):
    meta = json.load(open(os.path.join(data_dir, "meta.json")))
    count, side, length = meta["count"], meta["side"], meta["maxLength"]
    images = np.fromfile(os.path.join(data_dir, "images.u8"), dtype=np.uint8)
    tokens = np.fromfile(os.path.join(data_dir, "tokens.i32"), dtype="<i4")
    if images.size != count * side * side * 3 or tokens.size != count * length:
        sys.exit(f"{data_dir}: images.u8 or tokens.i32 does not hold {count} scenes of meta.json's size")
    images = torch.from_numpy(images.reshape(count, side, side, 3)).permute(0, 3, 1, 2).contiguous()
    vocab = json.load(open(os.path.join(data_dir, "tokenizer", "vocab.json")))
    tokens = tokens.reshape(count, length).astype(np.int64)
    # Per scene and object (up to MAX_OBJECTS): the caption position of its name (-1: not named, as
    # in an empty caption) and its box in pixels.
    positions = np.full((count, MAX_OBJECTS), -1, dtype=np.int64)
    boxes = np.zeros((count, MAX_OBJECTS, 4), dtype=np.float32)
    for i, scene in enumerate(meta["scenes"]):
        for k, obj in enumerate(scene):
            found = np.nonzero(tokens[i] == vocab[obj["label"]])[0]
            if found.size:
                positions[i, k] = found[0]
            boxes[i, k] = obj["box"]
    return images, torch.from_numpy(tokens), len(vocab), length, torch.from_numpy(positions), torch.from_numpy(boxes)


def grounding_loss(unet, positions, boxes, side):
    """At the pixels of each object the caption names, the cross-attention should go to that object's
    word: the mean over those pixels of -log(attention on the word) (head-averaged), averaged over the
    attn2 layers. It teaches where each named object is drawn, and that what is drawn there is read
    from its word (the grounding CLIP gives Stable Diffusion's noun tokens); it never says where one
    object should be relative to another: the captions' relations stay untrustworthy."""
    named = positions >= 0
    if not named.any():
        return torch.zeros(())
    losses = []
    for module in unet.modules():
        if isinstance(module, Attention) and module.probs is not None:
            probs = module.probs  # (B, N, M)
            cells = int(math.isqrt(probs.shape[1]))
            centre = (torch.arange(cells, dtype=torch.float32) + 0.5) * side / cells
            on_word = probs.gather(2, positions.clamp(min=0)[:, None, :].expand(-1, probs.shape[1], -1))  # (B, N, K)
            inside_x = (centre[None, None, :] >= boxes[:, :, 0:1]) & (centre[None, None, :] < boxes[:, :, 2:3])  # (B, K, cells)
            inside_y = (centre[None, None, :] >= boxes[:, :, 1:2]) & (centre[None, None, :] < boxes[:, :, 3:4])
            mask = (inside_y[:, :, :, None] & inside_x[:, :, None, :]).reshape(boxes.shape[0], boxes.shape[1], -1).float()  # (B, K, N)
            mask = mask * named[:, :, None]
            nll = -(on_word.permute(0, 2, 1).clamp(min=1e-6).log() * mask).sum() / mask.sum().clamp(min=1)
            losses.append(nll)
            module.probs = None
    return torch.stack(losses).mean()


def flip_boxes(boxes, flip_h, flip_v, side):
    boxes = boxes.clone()
    x0, y0, x1, y1 = boxes.unbind(-1)
    h, v = flip_h[:, None], flip_v[:, None]
    return torch.stack([torch.where(h, side - x1, x0), torch.where(v, side - y1, y0), torch.where(h, side - x0, x1), torch.where(v, side - y0, y1)], -1)


def to_latent(images_u8):
    return F.pixel_unshuffle(images_u8.float() / 127.5 - 1.0, 2)


def export(unet, text_encoder, max_length, out_dir, data_dir):
    """Writes the model folder; each ONNX file is written beside its target and renamed, so a reader never sees half a file."""
    def onnx_export(module, args, path, **kwargs):
        os.makedirs(os.path.dirname(path), exist_ok=True)
        tmp = path + ".tmp"
        torch.onnx.export(module, args, tmp, opset_version=OPSET, do_constant_folding=True, **kwargs)
        os.replace(tmp, path)

    latent = torch.randn(1, 12, 16, 16)
    onnx_export(unet, (latent, torch.tensor([500.0]), torch.randn(1, max_length, TEXT_WIDTH)), os.path.join(out_dir, "unet", "model.onnx"),
                input_names=["sample", "timestep", "encoder_hidden_states"], output_names=["out_sample"],
                dynamic_axes={"sample": {0: "batch"}, "timestep": {0: "steps"}, "encoder_hidden_states": {0: "batch"}, "out_sample": {0: "batch"}})
    onnx_export(text_encoder, (torch.ones(1, max_length, dtype=torch.int64),), os.path.join(out_dir, "text_encoder", "model.onnx"),
                input_names=["input_ids"], output_names=["last_hidden_state"],
                dynamic_axes={"input_ids": {0: "batch"}, "last_hidden_state": {0: "batch"}})
    onnx_export(DepthToSpaceDecoder(), (latent,), os.path.join(out_dir, "vae_decoder", "model.onnx"),
                input_names=["latent_sample"], output_names=["sample"],
                dynamic_axes={"latent_sample": {0: "batch"}, "sample": {0: "batch"}})
    shutil.copytree(os.path.join(data_dir, "tokenizer"), os.path.join(out_dir, "tokenizer"), dirs_exist_ok=True)
    write_json(os.path.join(out_dir, "vae_decoder", "config.json"), {"scaling_factor": 1.0, "latent_channels": 12, "note": "depth-to-space of a 2x2 space-to-depth; no weights"})
    write_json(os.path.join(out_dir, "unet", "config.json"), {"in_channels": 12, "sample_size": 16, "block_out_channels": list(CHANNELS), "cross_attention_dim": TEXT_WIDTH})
    write_json(os.path.join(out_dir, "scheduler", "scheduler_config.json"), {
        "_class_name": "DDPMScheduler", "num_train_timesteps": TRAIN_TIMESTEPS, "beta_schedule": "linear",
        "beta_start": BETA_START, "beta_end": BETA_END, "prediction_type": "epsilon", "clip_sample": True, "clip_sample_range": 1.0,
        "timestep_spacing": "trailing", "steps_offset": 1})
    write_json(os.path.join(out_dir, "model_index.json"), {
        "_class_name": "InfSplignShapesPipeline", "_diffusers_version": "0.30.0",
        "scheduler": ["diffusers", "DDPMScheduler"], "text_encoder": ["diffusers", "OnnxRuntimeModel"],
        "tokenizer": ["infsplign", "WordLevelTokenizer"], "unet": ["diffusers", "OnnxRuntimeModel"],
        "vae_decoder": ["diffusers", "OnnxRuntimeModel"]})


def write_json(path, value):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        json.dump(value, f, indent=2)
        f.write("\n")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--steps", type=int, default=3000)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--export-every", type=int, default=1000, help="also export the folder every N steps (0: only at the end)")
    args = parser.parse_args()

    torch.manual_seed(args.seed)
    np.random.seed(args.seed)
    torch.set_num_threads(args.threads)
    images, tokens, vocab_size, max_length, positions, boxes = load_data(args.data)
    side = images.shape[-1]
    unet, text_encoder = UNet2DConditionModel(), TextEncoder(vocab_size, max_length)
    for name, module in unet.named_modules():
        if name.endswith("attn2"):
            module.keep_probs = True
    ema_unet, ema_text = UNet2DConditionModel().eval(), TextEncoder(vocab_size, max_length).eval()
    ema_unet.load_state_dict(unet.state_dict()), ema_text.load_state_dict(text_encoder.state_dict())
    params = list(unet.parameters()) + list(text_encoder.parameters())
    print(f"U-Net {sum(p.numel() for p in unet.parameters()):,} parameters, text encoder {sum(p.numel() for p in text_encoder.parameters()):,}; "
          f"{images.shape[0]} scenes; {args.steps} steps of {args.batch}", flush=True)
    optimizer = torch.optim.AdamW(params, lr=args.lr, weight_decay=0.01)
    warmup = 200
    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: min(1.0, (s + 1) / warmup) * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * min(s, args.steps) / args.steps))))
    alphas_cumprod = torch.cumprod(1 - torch.linspace(BETA_START, BETA_END, TRAIN_TIMESTEPS), 0)
    generator = torch.Generator().manual_seed(args.seed)
    started, running, running_grounding = time.time(), 0.0, 0.0
    for step in range(1, args.steps + 1):
        idx = torch.randint(0, images.shape[0], (args.batch,), generator=generator)
        x = images[idx]
        # Flips keep every caption true: no caption's relation is to be trusted anyway.
        flip_h = torch.rand(args.batch, generator=generator) < 0.5
        flip_v = torch.rand(args.batch, generator=generator) < 0.5
        x = torch.where(flip_h[:, None, None, None], x.flip(3), x)
        x = torch.where(flip_v[:, None, None, None], x.flip(2), x)
        x0 = to_latent(x)
        batch_boxes = flip_boxes(boxes[idx], flip_h, flip_v, side)
        t = torch.randint(0, TRAIN_TIMESTEPS, (args.batch,), generator=generator)
        noise = torch.randn(x0.shape, generator=generator)
        a = alphas_cumprod[t][:, None, None, None]
        xt = a.sqrt() * x0 + (1 - a).sqrt() * noise
        denoising = F.mse_loss(unet(xt, t.float(), text_encoder(tokens[idx])), noise)
        grounding = grounding_loss(unet, positions[idx], batch_boxes, side)
        loss = denoising + GROUNDING_WEIGHT * grounding
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        optimizer.step()
        schedule.step()
        decay = min(0.999, (1 + step) / (10 + step))
        with torch.no_grad():
            for ema, live in ((ema_unet, unet), (ema_text, text_encoder)):
                for pe, pl in zip(ema.parameters(), live.parameters()):
                    pe.mul_(decay).add_(pl.detach(), alpha=1 - decay)
        running = denoising.item() if step == 1 else 0.98 * running + 0.02 * denoising.item()
        running_grounding = grounding.item() if step == 1 else 0.98 * running_grounding + 0.02 * grounding.item()
        if step % 50 == 0 or step == args.steps:
            elapsed = time.time() - started
            print(f"step {step}/{args.steps} loss {running:.4f} grounding {running_grounding:.3f} lr {schedule.get_last_lr()[0]:.2e} {elapsed / step:.2f} s/step, {elapsed / 60:.1f} min", flush=True)
        if (args.export_every and step % args.export_every == 0) or step == args.steps:
            with torch.no_grad():
                export(ema_unet, ema_text, max_length, args.out, args.data)
            print(f"exported {args.out} at step {step}", flush=True)
    print(f"done in {(time.time() - started) / 60:.1f} min", flush=True)


if __name__ == "__main__":
    main()
