// Inline SVG icons (no icon font, no emoji: both depend on fonts the machine may lack).
const common = { width: 16, height: 16, viewBox: '0 0 24 24', fill: 'none', stroke: 'currentColor', strokeWidth: 2,
  strokeLinecap: 'round' as const, strokeLinejoin: 'round' as const, 'aria-hidden': true };

export function DiceIcon() {
  return (
    <svg {...common}>
      <rect x="3" y="3" width="18" height="18" rx="3" />
      <circle cx="8.5" cy="8.5" r="1.2" fill="currentColor" /><circle cx="15.5" cy="15.5" r="1.2" fill="currentColor" />
      <circle cx="15.5" cy="8.5" r="1.2" fill="currentColor" /><circle cx="8.5" cy="15.5" r="1.2" fill="currentColor" />
    </svg>
  );
}

export function KeyIcon() {
  return (
    <svg {...common} width={18} height={18}>
      <circle cx="7.5" cy="15.5" r="4.5" /><path d="m10.7 12.3 9.3-9.3M16 7l3 3M18 5l2 2" />
    </svg>
  );
}

export function ImagesIcon({ className }: { className?: string }) {
  return (
    <svg {...common} width={44} height={44} strokeWidth={1.5} className={className}>
      <rect x="3" y="5" width="14" height="14" rx="2" /><path d="M7 3h12a2 2 0 0 1 2 2v12" />
      <circle cx="8" cy="10" r="1.5" /><path d="m17 16-4-4-7 7" />
    </svg>
  );
}
