// Prompt suggestions for product photography of shoes. The template is the training captions' own.
export const PROMPT_TEMPLATE =
  'A professional product photo of black casual shoes, summer collection, men, centered on white background, ' +
  'high quality, product photography';

export const PRESET_GROUPS: { label: string; phrases: string[] }[] = [
  { label: 'Colors', phrases: ['black', 'white', 'brown', 'grey', 'navy blue', 'beige', 'tan', 'red', 'olive green'] },
  { label: 'Materials', phrases: ['leather', 'suede', 'canvas', 'knit mesh', 'patent leather', 'nubuck'] },
  { label: 'Styles', phrases: ['casual shoes', 'sneakers', 'running shoes', 'loafers', 'chelsea boots', 'high-tops',
    'sandals', 'oxford shoes'] },
  { label: 'Views', phrases: ['side view', 'three-quarter view', 'top-down view', 'pair, front view',
    'sole detail', 'close-up of stitching'] },
  { label: 'Setting', phrases: ['centered on white background', 'soft studio lighting', 'grey studio background',
    'high quality', 'product photography'] },
];
