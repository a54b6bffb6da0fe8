/**
 * Texts of issue 13 point 10 ("small things that cost trust"): preview totals, the confirm dialog's count and
 * sum. Chinese defines the keys, English has its type; i18n.ts puts them under `tr` in each dictionary.
 */
export const zhTrust = {
  /** The preview's total when some rows have problems: it counts only the valid ones. */
  totalExcludes: (n: number) => `元 · 不含 ${n} 条有问题的记录`,
  detailDataAfterFix: '修正上面的问题后才会生成 detail_data。',
  confirmSubmitN: (n: number, yuan: string) =>
    `确认创建退款批次并提交到支付宝？共 ${n} 笔，退款总额 ${yuan} 元。`,
};

export type TrustDict = typeof zhTrust;

export const enTrust: TrustDict = {
  totalExcludes: (n) => `yuan · excludes ${n} record(s) with problems`,
  detailDataAfterFix: 'detail_data is built once the problems above are fixed.',
  confirmSubmitN: (n, yuan) =>
    `Create the refund batches and submit them to Alipay? ${n} record(s), ${yuan} yuan in total.`,
};
