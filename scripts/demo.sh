#!/usr/bin/env bash
# The end-to-end job on the built-in tiny base, offline on a CPU: sample photos → dataset check → LoRA
# training with checkpoints and validation images → kohya export → a batch and a checkpoint comparison
# grid → the API and web studio on http://127.0.0.1:8011. Real use swaps `tiny` for
# stable-diffusion-v1-5/stable-diffusion-v1-5 and the sample folder for your own photos.
set -euo pipefail
out=${1:-demo-output}
shoegen=.venv/bin/shoegen
rm -rf "$out"
mkdir -p "$out/runs"

echo "== 1/6 rendering 200 sample shoe photos"
$shoegen sample-data "$out/data" --count 200 --size 64 --seed 0

echo "== 2/6 checking the dataset"
$shoegen dataset check "$out/data" --min-side 64

echo "== 3/6 training a LoRA on the built-in tiny base (64 px, CPU)"
$shoegen train --config configs/demo-tiny.yaml --dataset_path "$out/data" --output_dir "$out/runs/shoes"

echo "== 4/6 exporting the adapter for AUTOMATIC1111 / ComfyUI"
$shoegen lora export "$out/runs/shoes" --format kohya --output "$out/shoes_lora_kohya.safetensors"

echo "== 5/6 generating a batch and a checkpoint comparison grid"
printf '%s\n' "A professional product photo of red leather sneakers, centered on white background" \
  "A professional product photo of blue suede boots, centered on white background" > "$out/prompts.txt"
gen=(--base-model tiny --models-dir "$out/runs" --width 64 --height 64 --steps 20)
$shoegen batch "$out/prompts.txt" -n 4 --model shoes "${gen[@]}" --output "$out/batch"
checkpoints=$($shoegen models --models-dir "$out/runs" | awk '{print $1}' | paste -sd, -)
$shoegen grid --prompts "red leather sneakers" "blue suede boots" --models "tiny,$checkpoints" "${gen[@]}" \
  --output "$out/grid.png"

cat <<DONE

Done. Look at:
  loss curve         $out/runs/shoes/logs/loss_curve.png
  validation images  $out/runs/shoes/validation/ (one contact sheet per validation step)
  final adapter      $out/runs/shoes/lora_weights/pytorch_lora_weights.safetensors
  kohya export       $out/shoes_lora_kohya.safetensors
  batch              $out/batch/ (PNGs with embedded parameters + manifest.json)
  comparison grid    $out/grid.png (base model and every checkpoint, same seeds)
  TensorBoard        .venv/bin/tensorboard --logdir $out/runs/shoes/logs/tensorboard
DONE

if [ "${DEMO_SERVE:-1}" = 1 ]; then
  echo
  echo "== 6/6 serving the API and the web studio: open http://127.0.0.1:8011 (Ctrl+C stops it)"
  exec $shoegen serve --base-model tiny --models-dir "$out/runs" --data-dir "$out/gallery"
fi
