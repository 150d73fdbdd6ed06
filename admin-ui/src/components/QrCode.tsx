import qrcode from 'qrcode-generator';

/// `text` as a QR code drawn in SVG (no data: URI, no inline style: the CSP allows it as is).
export function QrCode({ text, label, size = 192 }: { text: string; label: string; size?: number }) {
  const qr = qrcode(0, 'M');
  qr.addData(text);
  qr.make();
  const count = qr.getModuleCount();
  const quiet = 4;
  const total = count + quiet * 2;
  const cells: string[] = [];
  for (let row = 0; row < count; row++) {
    for (let col = 0; col < count; col++) {
      if (qr.isDark(row, col)) cells.push(`M${col + quiet} ${row + quiet}h1v1h-1z`);
    }
  }
  return (
    <svg role="img" aria-label={label} width={size} height={size} viewBox={`0 0 ${total} ${total}`} shapeRendering="crispEdges" className="qr">
      <rect width={total} height={total} fill="#fff" />
      <path d={cells.join('')} fill="#000" />
    </svg>
  );
}
