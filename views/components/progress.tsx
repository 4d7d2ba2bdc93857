/**
 * The filled part of a progress bar, `percent` wide (clamped to 0–100). An SVG rectangle's width attribute, not a
 * style="" attribute: the CSP allows no inline style.
 */
export function ProgressFill(props: { percent: number }) {
  const width = Math.max(0, Math.min(100, Number.isFinite(props.percent) ? props.percent : 0)).toFixed(1);
  return (
    <svg class="progress-fill" viewBox="0 0 100 1" preserveAspectRatio="none" aria-hidden="true" focusable="false">
      <rect width={width} height="1" />
    </svg>
  );
}
