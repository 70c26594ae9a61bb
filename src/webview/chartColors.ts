/**
 * Chart colours by failure category (pure: no DOM, unit-tested). Every reason of a category gets
 * the category's --vscode-charts-* theme colour; reasons within a category are told apart by a fill
 * pattern (solid, stripes, dots, cross-hatch, …) in a stable order, so no two reasons look alike
 * and a reason keeps its look from one render to the next. The legend groups by category.
 */
import { CATEGORIES, categoryOf, type Category } from '../core/reasons';

/** The theme variable of each category (VS Code defines all of them in light, dark and high contrast). */
export const CATEGORY_COLOR_VAR: Readonly<Record<Category, string>> = {
  liquidity: '--vscode-charts-blue',
  fee: '--vscode-charts-orange',
  policy: '--vscode-charts-purple',
  peer: '--vscode-charts-yellow',
  downstream: '--vscode-charts-red',
  other: '--vscode-charts-green',
};

/** Fills for the 1st, 2nd, … reason of a category. */
export const FILLS = ['solid', 'stripes', 'dots', 'cross', 'backslash', 'grid'] as const;
export type Fill = (typeof FILLS)[number];

export interface ReasonStyle {
  reason: string;
  category: Category;
  colorVar: string;
  fill: Fill;
}

/**
 * The reasons in legend order (by category, then by name) with their style. A reason's fill depends
 * only on the reasons of its category present in the chart, ordered by name.
 */
export function reasonStyles(reasons: readonly string[]): ReasonStyle[] {
  const unique = [...new Set(reasons)];
  const rank = (r: string) => CATEGORIES.indexOf(categoryOf(r));
  unique.sort((a, b) => rank(a) - rank(b) || (a < b ? -1 : a > b ? 1 : 0));
  const seen = new Map<Category, number>();
  return unique.map((reason) => {
    const category = categoryOf(reason);
    const k = seen.get(category) ?? 0;
    seen.set(category, k + 1);
    return { reason, category, colorVar: CATEGORY_COLOR_VAR[category], fill: FILLS[k % FILLS.length] };
  });
}
