#!/usr/bin/python3
"""Bench model: a U-Net with Stable Diffusion 2.1's block structure (diffusers UNet2DConditionModel as
configured in stabilityai/stable-diffusion-2-1-base) at reduced width, random seeded weights, exported
by torch.onnx (TorchScript exporter) for `npm run bench:generate`. Nothing at run time needs it.

Structure (module names are diffusers' own, so the exported node scopes read
/up_blocks.1/attentions.0/transformer_blocks.0/attn2/Softmax and docs/method.md's SD layers select six):
  time_proj (sinusoidal, flip_sin_to_cos, shift 0) -> time_embedding.linear_1 / SiLU / linear_2
  conv_in
  down_blocks.0-2 CrossAttnDownBlock2D: 2 x (resnets.i, attentions.i), downsamplers.0 (stride-2 conv)
  down_blocks.3   DownBlock2D: 2 resnets
  mid_block       UNetMidBlock2DCrossAttn: resnets.0, attentions.0, resnets.1
  up_blocks.0     UpBlock2D: 3 resnets on skip concatenations, upsamplers.0 (nearest x2 + conv)
  up_blocks.1-3   CrossAttnUpBlock2D: 3 x (resnets.i, attentions.i) on skip concatenations, upsamplers.0 (not the last)
  conv_norm_out / conv_act / conv_out
ResnetBlock2D: norm1 conv1 time_emb_proj norm2 conv2 (conv_shortcut); GroupNorm(32 or fewer groups).
Transformer2DModel, use_linear_projection=True (SD 2.x): norm (GroupNorm eps 1e-6), proj_in Linear,
transformer_blocks.0 (BasicTransformerBlock: norm1 attn1 norm2 attn2 norm3 ff.net.0.proj (GEGLU) ff.net.2),
proj_out Linear, residual. Attention as diffusers' AttnProcessor: baddbmm(Q, K^T, beta=0, alpha=1/sqrt(d))
then an explicit softmax (no scaled_dot_product_attention).

usage: make_sd21_like_unet.py OUT_DIR [SIDE=32] [CHANNELS=32,64,128,128] [CONTEXT=128] [TOKENS=77] [HEAD_DIM=64] [SEED=0]
Writes OUT_DIR/unet/model.onnx (+ unet/config.json). Inputs sample [batch, 4, SIDE, SIDE] float32,
timestep [1] int64, encoder_hidden_states [batch, TOKENS, CONTEXT]; output out_sample.
"""
import json
import math
import os
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

OUT = sys.argv[1] if len(sys.argv) > 1 else "."
SIDE = int(sys.argv[2]) if len(sys.argv) > 2 else 32
CHANNELS = tuple(int(c) for c in sys.argv[3].split(",")) if len(sys.argv) > 3 else (32, 64, 128, 128)
CONTEXT = int(sys.argv[4]) if len(sys.argv) > 4 else 128
TOKENS = int(sys.argv[5]) if len(sys.argv) > 5 else 77
HEAD_DIM = int(sys.argv[6]) if len(sys.argv) > 6 else 64
SEED = int(sys.argv[7]) if len(sys.argv) > 7 else 0
LAYERS_PER_BLOCK = 2
IN_CHANNELS = 4


def groups(channels):
    """SD uses GroupNorm(32); at reduced width, the largest divisor of the channel count up to 32."""
    g = min(32, channels)
    while channels % g:
        g -= 1
    return g


class Attention(nn.Module):
    def __init__(self, query_dim, context_dim, heads, head_dim):
        super().__init__()
        inner = heads * head_dim
        self.heads = heads
        self.scale = head_dim ** -0.5
        self.to_q = nn.Linear(query_dim, inner, bias=False)
        self.to_k = nn.Linear(context_dim, inner, bias=False)
        self.to_v = nn.Linear(context_dim, inner, bias=False)
        self.to_out = nn.ModuleList([nn.Linear(inner, query_dim), nn.Dropout(0.0)])

    def head_to_batch_dim(self, x):
        b, n, c = x.shape
        return x.reshape(b, n, self.heads, c // self.heads).permute(0, 2, 1, 3).reshape(b * self.heads, n, c // self.heads)

    def batch_to_head_dim(self, x):
        bh, n, d = x.shape
        return x.reshape(bh // self.heads, self.heads, n, d).permute(0, 2, 1, 3).reshape(bh // self.heads, n, d * self.heads)

    def forward(self, hidden_states, encoder_hidden_states=None):
        context = hidden_states if encoder_hidden_states is None else encoder_hidden_states
        q = self.head_to_batch_dim(self.to_q(hidden_states))
        k = self.head_to_batch_dim(self.to_k(context))
        v = self.head_to_batch_dim(self.to_v(context))
        # diffusers' get_attention_scores: baddbmm with beta=0, then softmax over the keys
        empty = torch.empty(q.shape[0], q.shape[1], k.shape[1], dtype=q.dtype)
        scores = torch.baddbmm(empty, q, k.transpose(-1, -2), beta=0, alpha=self.scale)
        probs = scores.softmax(dim=-1)
        out = self.batch_to_head_dim(torch.bmm(probs, v))
        return self.to_out[1](self.to_out[0](out))


class GEGLU(nn.Module):
    def __init__(self, dim_in, dim_out):
        super().__init__()
        self.proj = nn.Linear(dim_in, dim_out * 2)

    def forward(self, x):
        hidden, gate = self.proj(x).chunk(2, dim=-1)
        return hidden * F.gelu(gate)


class FeedForward(nn.Module):
    def __init__(self, dim, mult=4):
        super().__init__()
        inner = dim * mult
        self.net = nn.ModuleList([GEGLU(dim, inner), nn.Dropout(0.0), nn.Linear(inner, dim)])

    def forward(self, x):
        for module in self.net:
            x = module(x)
        return x


class BasicTransformerBlock(nn.Module):
    def __init__(self, dim, context_dim, heads, head_dim):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim)
        self.attn1 = Attention(dim, dim, heads, head_dim)
        self.norm2 = nn.LayerNorm(dim)
        self.attn2 = Attention(dim, context_dim, heads, head_dim)
        self.norm3 = nn.LayerNorm(dim)
        self.ff = FeedForward(dim)

    def forward(self, x, context):
        x = self.attn1(self.norm1(x)) + x
        x = self.attn2(self.norm2(x), context) + x
        return self.ff(self.norm3(x)) + x


class Transformer2DModel(nn.Module):
    def __init__(self, channels, context_dim, head_dim):
        super().__init__()
        heads = max(1, channels // head_dim)
        self.norm = nn.GroupNorm(groups(channels), channels, eps=1e-6)
        self.proj_in = nn.Linear(channels, channels)  # use_linear_projection=True (SD 2.x)
        self.transformer_blocks = nn.ModuleList([BasicTransformerBlock(channels, context_dim, heads, channels // heads)])
        self.proj_out = nn.Linear(channels, channels)

    def forward(self, x, context):
        b, c, h, w = x.shape
        residual = x
        hidden = self.norm(x).permute(0, 2, 3, 1).reshape(b, h * w, c)
        hidden = self.proj_in(hidden)
        for block in self.transformer_blocks:
            hidden = block(hidden, context)
        hidden = self.proj_out(hidden)
        return hidden.reshape(b, h, w, c).permute(0, 3, 1, 2) + residual


class ResnetBlock2D(nn.Module):
    def __init__(self, cin, cout, temb):
        super().__init__()
        self.norm1 = nn.GroupNorm(groups(cin), cin, eps=1e-5)
        self.conv1 = nn.Conv2d(cin, cout, 3, padding=1)
        self.time_emb_proj = nn.Linear(temb, cout)
        self.norm2 = nn.GroupNorm(groups(cout), cout, eps=1e-5)
        self.dropout = nn.Dropout(0.0)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1)
        self.conv_shortcut = nn.Conv2d(cin, cout, 1) if cin != cout else None

    def forward(self, x, temb):
        h = self.conv1(F.silu(self.norm1(x)))
        h = h + self.time_emb_proj(F.silu(temb))[:, :, None, None]
        h = self.conv2(self.dropout(F.silu(self.norm2(h))))
        shortcut = self.conv_shortcut(x) if self.conv_shortcut is not None else x
        return shortcut + h


class Downsample2D(nn.Module):
    def __init__(self, channels):
        super().__init__()
        self.conv = nn.Conv2d(channels, channels, 3, stride=2, padding=1)

    def forward(self, x):
        return self.conv(x)


class Upsample2D(nn.Module):
    def __init__(self, channels):
        super().__init__()
        self.conv = nn.Conv2d(channels, channels, 3, padding=1)

    def forward(self, x):
        return self.conv(F.interpolate(x, scale_factor=2.0, mode="nearest"))


class DownBlock(nn.Module):
    """CrossAttnDownBlock2D (cross_attention=True) or DownBlock2D."""

    def __init__(self, cin, cout, temb, context_dim, head_dim, cross_attention, downsample):
        super().__init__()
        self.resnets = nn.ModuleList([ResnetBlock2D(cin if i == 0 else cout, cout, temb) for i in range(LAYERS_PER_BLOCK)])
        if cross_attention:
            self.attentions = nn.ModuleList([Transformer2DModel(cout, context_dim, head_dim) for _ in range(LAYERS_PER_BLOCK)])
        self.cross_attention = cross_attention
        if downsample:
            self.downsamplers = nn.ModuleList([Downsample2D(cout)])
        self.downsample = downsample

    def forward(self, x, temb, context):
        skips = []
        for i, resnet in enumerate(self.resnets):
            x = resnet(x, temb)
            if self.cross_attention:
                x = self.attentions[i](x, context)
            skips.append(x)
        if self.downsample:
            x = self.downsamplers[0](x)
            skips.append(x)
        return x, skips


class UpBlock(nn.Module):
    """CrossAttnUpBlock2D (cross_attention=True) or UpBlock2D."""

    def __init__(self, cin, prev, cout, temb, context_dim, head_dim, cross_attention, upsample):
        super().__init__()
        n = LAYERS_PER_BLOCK + 1
        resnets = []
        for i in range(n):
            skip = cin if i == n - 1 else cout
            resnet_in = prev if i == 0 else cout
            resnets.append(ResnetBlock2D(resnet_in + skip, cout, temb))
        self.resnets = nn.ModuleList(resnets)
        if cross_attention:
            self.attentions = nn.ModuleList([Transformer2DModel(cout, context_dim, head_dim) for _ in range(n)])
        self.cross_attention = cross_attention
        if upsample:
            self.upsamplers = nn.ModuleList([Upsample2D(cout)])
        self.upsample = upsample

    def forward(self, x, skips, temb, context):
        for i, resnet in enumerate(self.resnets):
            x = resnet(torch.cat([x, skips.pop()], dim=1), temb)
            if self.cross_attention:
                x = self.attentions[i](x, context)
        if self.upsample:
            x = self.upsamplers[0](x)
        return x


class UNetMidBlock2DCrossAttn(nn.Module):
    def __init__(self, channels, temb, context_dim, head_dim):
        super().__init__()
        self.attentions = nn.ModuleList([Transformer2DModel(channels, context_dim, head_dim)])
        self.resnets = nn.ModuleList([ResnetBlock2D(channels, channels, temb), ResnetBlock2D(channels, channels, temb)])

    def forward(self, x, temb, context):
        x = self.resnets[0](x, temb)
        x = self.attentions[0](x, context)
        return self.resnets[1](x, temb)


class TimestepEmbedding(nn.Module):
    def __init__(self, cin, temb):
        super().__init__()
        self.linear_1 = nn.Linear(cin, temb)
        self.linear_2 = nn.Linear(temb, temb)

    def forward(self, x):
        return self.linear_2(F.silu(self.linear_1(x)))


class UNet2DConditionModel(nn.Module):
    def __init__(self, channels, context_dim, head_dim):
        super().__init__()
        temb = channels[0] * 4
        self.ch0 = channels[0]
        self.time_embedding = TimestepEmbedding(channels[0], temb)
        self.conv_in = nn.Conv2d(IN_CHANNELS, channels[0], 3, padding=1)
        last = len(channels) - 1
        self.down_blocks = nn.ModuleList([
            DownBlock(channels[max(i - 1, 0)], channels[i], temb, context_dim, head_dim, cross_attention=i < last, downsample=i < last)
            for i in range(len(channels))
        ])
        self.mid_block = UNetMidBlock2DCrossAttn(channels[-1], temb, context_dim, head_dim)
        rev = list(reversed(channels))
        ups = []
        prev = rev[0]
        for i in range(len(rev)):
            cout = rev[i]
            cin = rev[min(i + 1, last)]
            ups.append(UpBlock(cin, prev, cout, temb, context_dim, head_dim, cross_attention=i > 0, upsample=i < last))
            prev = cout
        self.up_blocks = nn.ModuleList(ups)
        self.conv_norm_out = nn.GroupNorm(groups(channels[0]), channels[0], eps=1e-5)
        self.conv_act = nn.SiLU()
        self.conv_out = nn.Conv2d(channels[0], IN_CHANNELS, 3, padding=1)

    def time_proj(self, timesteps):
        """diffusers' Timesteps(block_out_channels[0], flip_sin_to_cos=True, downscale_freq_shift=0)."""
        half = self.ch0 // 2
        exponent = -math.log(10000) * torch.arange(half, dtype=torch.float32) / half
        emb = timesteps[:, None].float() * torch.exp(exponent)[None, :]
        emb = torch.cat([torch.sin(emb), torch.cos(emb)], dim=-1)
        return torch.cat([emb[:, half:], emb[:, :half]], dim=-1)

    def forward(self, sample, timestep, encoder_hidden_states):
        temb = self.time_embedding(self.time_proj(timestep.expand(sample.shape[0])))
        x = self.conv_in(sample)
        skips = [x]
        for block in self.down_blocks:
            if block.cross_attention:
                x, s = block(x, temb, encoder_hidden_states)
            else:
                x, s = block(x, temb, None)
            skips.extend(s)
        x = self.mid_block(x, temb, encoder_hidden_states)
        for block in self.up_blocks:
            n = len(block.resnets)
            block_skips = skips[-n:]
            del skips[-n:]
            x = block(x, block_skips, temb, encoder_hidden_states if block.cross_attention else None)
        return self.conv_out(self.conv_act(self.conv_norm_out(x)))


def main():
    torch.manual_seed(SEED)
    model = UNet2DConditionModel(CHANNELS, CONTEXT, HEAD_DIM).eval()
    os.makedirs(os.path.join(OUT, "unet"), exist_ok=True)
    sample = torch.randn(1, IN_CHANNELS, SIDE, SIDE)
    timestep = torch.tensor([501], dtype=torch.int64)
    context = torch.randn(1, TOKENS, CONTEXT)
    with torch.no_grad():
        out = model(sample, timestep, context)
        torch.onnx.export(
            model, (sample, timestep, context), os.path.join(OUT, "unet", "model.onnx"), opset_version=17,
            input_names=["sample", "timestep", "encoder_hidden_states"], output_names=["out_sample"],
            dynamic_axes={"sample": {0: "batch"}, "encoder_hidden_states": {0: "batch"}, "out_sample": {0: "batch"}},
            do_constant_folding=True,
        )
    config = {
        "_class_name": "UNet2DConditionModel",
        "_note": "reduced-width SD 2.1 structure for bench:generate (workers/bench/make_sd21_like_unet.py)",
        "in_channels": IN_CHANNELS, "out_channels": IN_CHANNELS, "sample_size": SIDE,
        "block_out_channels": list(CHANNELS), "layers_per_block": LAYERS_PER_BLOCK,
        "down_block_types": ["CrossAttnDownBlock2D"] * (len(CHANNELS) - 1) + ["DownBlock2D"],
        "up_block_types": ["UpBlock2D"] + ["CrossAttnUpBlock2D"] * (len(CHANNELS) - 1),
        "cross_attention_dim": CONTEXT, "attention_head_dim": HEAD_DIM, "use_linear_projection": True, "seed": SEED,
    }
    with open(os.path.join(OUT, "unet", "config.json"), "w") as f:
        json.dump(config, f, indent=2)
    params = sum(p.numel() for p in model.parameters())
    print(f"parameters {params}, out_sample {tuple(out.shape)} std {out.std().item():.4f}")


if __name__ == "__main__":
    main()
