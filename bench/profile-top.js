// Summarises a .cpuprofile (node --cpu-prof): self time by function.  node bench/profile-top.js FILE [N]
// summarises a .cpuprofile: self time by function, top N
const fs = require('fs');
const p = JSON.parse(fs.readFileSync(process.argv[2]));
const self = new Map(); const byId = new Map(p.nodes.map(n => [n.id, n]));
const dt = new Map();
for (let i = 0; i < p.samples.length; i++) dt.set(p.samples[i], (dt.get(p.samples[i]) || 0) + (p.timeDeltas[i] || 0));
let total = 0;
for (const n of p.nodes) { const t = dt.get(n.id) || 0; total += t; const cf = n.callFrame; const k = `${cf.functionName || '(anon)'} ${cf.url.split('/').slice(-2).join('/')}:${cf.lineNumber + 1}`; self.set(k, (self.get(k) || 0) + t); }
const rows = [...self].sort((a, b) => b[1] - a[1]).slice(0, Number(process.argv[3] || 30));
for (const [k, t] of rows) console.log((100 * t / total).toFixed(1).padStart(5) + '%  ' + k);
