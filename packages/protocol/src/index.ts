/**
 * @alirefund/protocol — the SDK for Alipay's instant-payment batch refund services
 * (refund_fastpay_by_platform_pwd / refund_fastpay_by_platform_nopwd) and their notification.
 */
export * from './amount.js';
export * from './batch-no.js';
export * from './beijing-time.js';
export * from './charset.js';
export * from './codes.js';
export * from './config.js';
export * from './detail-data.js';
export * from './diagnose.js';
export * from './explain.js';
export * from './html.js';
export * from './issues.js';
export * from './notify.js';
export * from './query.js';
export * from './request.js';
export * from './result-details.js';
export * from './services.js';
export * from './sign.js';
