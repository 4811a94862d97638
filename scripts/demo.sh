#!/usr/bin/env bash
# The end-to-end job, offline on a CPU: the built-in `demo` base (trained from scratch on rendered shoes,
# the watermelon pattern held out; built once, then cached) → watermelon photos and other shoes to regularise
# with → dataset check → a LoRA that teaches the base the held-out pattern, with checkpoints and validation
# images → kohya export → a
# batch and a base-versus-checkpoints comparison grid → every checkpoint scored, the best one picked by a number
# → the API and web studio on http://127.0.0.1:8011.
# Real use swaps `demo` for stable-diffusion-v1-5/stable-diffusion-v1-5 and the sample folder for your photos.
set -euo pipefail
out=${1:-demo-output}
shoegen=.venv/bin/shoegen
rm -rf "$out"
mkdir -p "$out/runs"
started=$SECONDS

echo "== 1/8 the demo base: trained from scratch on rendered shoes (first run: several minutes; then cached)"
base=$($shoegen base path demo)
echo "demo base: $base ($((SECONDS - started)) s)"

echo "== 2/8 rendering 200 photos of the held-out watermelon pattern, and 200 other shoes to regularise with"
$shoegen sample-data "$out/data" --count 200 --size 64 --seed 0 --only-pattern watermelon
$shoegen sample-data "$out/reg" --count 200 --size 64 --seed 7 --exclude-pattern watermelon

echo "== 3/8 checking the dataset"
$shoegen dataset check "$out/data"

echo "== 4/8 training a LoRA that teaches the demo base the watermelon pattern (64 px, CPU)"
$shoegen train --config configs/demo.yaml --dataset_path "$out/data" --reg_data_dir "$out/reg" \
  --output_dir "$out/runs/watermelon"

echo "== 5/8 exporting the adapter for AUTOMATIC1111 / ComfyUI"
$shoegen lora export "$out/runs/watermelon" --format kohya --output "$out/watermelon_lora_kohya.safetensors"

echo "== 6/8 generating a batch and the base-versus-LoRA comparison grid"
tail=", centered on white background, high quality, product photography"
printf '%s\n' "A professional product photo of watermelon pattern leather sneakers$tail" \
  "A professional product photo of red leather sneakers$tail" \
  "A professional product photo of blue suede boots$tail" > "$out/prompts.txt"
gen=(--base-model demo --models-dir "$out/runs" --steps 20)  # the size: the demo base's native 64 px
$shoegen batch "$out/prompts.txt" -n 4 --model watermelon "${gen[@]}" --output "$out/batch"
checkpoints=$($shoegen models --models-dir "$out/runs" | awk '{print $1}' | grep / | paste -sd, -)
# Prompts written as the LoRA was trained (the caption template): short ones barely reach the adapter.
photo="A professional product photo of"
$shoegen grid --prompts "$photo watermelon pattern leather sneakers$tail" "$photo watermelon pattern suede boots$tail" \
  "$photo yellow leather sneakers$tail" "$photo black leather boots$tail" --models "demo,$checkpoints,watermelon" \
  "${gen[@]}" --output "$out/grid.png"

echo "== 7/8 scoring every checkpoint (and the base) on the run's validation prompts, picking the best by a number"
$shoegen evaluate watermelon --models-dir "$out/runs" --seeds 4 --steps 20

cat <<DONE

Done in $((SECONDS - started)) s. Look at:
  comparison grid    $out/grid.png (rows: prompts; columns: the demo base, each checkpoint, the final LoRA)
  scores             $out/runs/watermelon/eval/scores.png (score versus step) and scores.jsonl; the best
                     checkpoint is $out/runs/watermelon/eval/best.json, usable as --model watermelon/best
  loss curve         $out/runs/watermelon/logs/loss_curve.png
  validation images  $out/runs/watermelon/validation/ (one contact sheet per validation step)
  final adapter      $out/runs/watermelon/lora_weights/pytorch_lora_weights.safetensors
  kohya export       $out/watermelon_lora_kohya.safetensors
  batch              $out/batch/ (PNGs with embedded parameters + manifest.json)
  TensorBoard        .venv/bin/tensorboard --logdir $out/runs/watermelon/logs/tensorboard
DONE

if [ "${DEMO_SERVE:-1}" = 1 ]; then
  echo
  echo "== 8/8 serving the API and the web studio: open http://127.0.0.1:8011 (Ctrl+C stops it)"
  exec $shoegen serve --base-model demo --models-dir "$out/runs" --data-dir "$out/gallery"
fi
