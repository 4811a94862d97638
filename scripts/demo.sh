#!/usr/bin/env bash
# The end-to-end job on the built-in tiny base, offline on a CPU: sample photos → LoRA training with
# checkpoints and validation images → kohya export. Real use swaps `tiny` for
# stable-diffusion-v1-5/stable-diffusion-v1-5 and the sample folder for your own photos.
set -euo pipefail
out=${1:-demo-output}
shoegen=.venv/bin/shoegen
rm -rf "$out"
mkdir -p "$out"

echo "== 1/4 rendering 200 sample shoe photos"
$shoegen sample-data "$out/data" --count 200 --size 64 --seed 0

echo "== 2/4 checking the dataset"
$shoegen dataset check "$out/data" --min-side 64

echo "== 3/4 training a LoRA on the built-in tiny base (64 px, CPU)"
$shoegen train --config configs/demo-tiny.yaml --dataset_path "$out/data" --output_dir "$out/run"

echo "== 4/4 exporting the adapter for AUTOMATIC1111 / ComfyUI"
$shoegen lora export "$out/run" --format kohya --output "$out/shoes_lora_kohya.safetensors"

cat <<DONE

Done. Look at:
  loss curve         $out/run/logs/loss_curve.png
  validation images  $out/run/validation/ (one contact sheet per validation step)
  final adapter      $out/run/lora_weights/pytorch_lora_weights.safetensors
  kohya export       $out/shoes_lora_kohya.safetensors
  TensorBoard        .venv/bin/tensorboard --logdir $out/run/logs/tensorboard
DONE
