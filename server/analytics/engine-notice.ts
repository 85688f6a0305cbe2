/**
 * What the Rules and Review pages tell people when detection is not running (Chinese first, English beside it):
 * a reviewer facing an empty queue must learn that no candidates can come, and why, in words. Never a server path.
 */
import type { ModelStatus } from '../../analytics/model-store.js';
import type { AnalyticsState } from './service.js';

export interface EngineNotice {
  zh: string;
  en: string;
}

export function engineNotice(o: {
  state: AnalyticsState;
  /** false where the node runs the API only (the engine runs elsewhere: nothing to warn about) */
  engineExpectedHere: boolean;
  defaultModel: string;
  defaultModelStatus?: ModelStatus;
}): EngineNotice | null {
  const m = o.defaultModel;
  switch (o.state) {
    case 'ready':
      return null;
    case 'starting':
      return { zh: '分析引擎正在启动（加载模型），稍后开始检测。', en: 'The analytics engine is starting (loading its models); detection begins shortly.' };
    case 'disabled':
      if (!o.engineExpectedHere) return null;
      return {
        zh: '本节点已关闭分析引擎（ANALYTICS_ENABLED=0）：不会产生新的候选事件。',
        en: 'The analytics engine is switched off on this node (ANALYTICS_ENABLED=0): no new candidate events will appear.',
      };
    case 'error':
      return {
        zh: '分析引擎启动失败：检测已停止，不会产生新的候选事件。请管理员查看服务器日志。',
        en: 'The analytics engine failed to start: detection is off and no new candidate events will appear. An administrator should check the server log.',
      };
    case 'degraded': {
      const fix = { zh: '请管理员换回正确的权重文件（models/ 目录或 MODELS_DIR）后重启服务。', en: 'An administrator must put the right weights back (models/ or MODELS_DIR) and restart.' };
      const off = { zh: '使用该模型的规则不会产生候选事件', en: 'rules that use it produce no candidate events' };
      switch (o.defaultModelStatus) {
        case 'bad-checksum':
          return {
            zh: `检测异常：默认模型 ${m} 的权重文件已损坏或不完整（SHA-256 校验不符），${off.zh}。${fix.zh}`,
            en: `Detection degraded: the weights of the default model ${m} are corrupt or truncated (sha256 does not match), so ${off.en}. ${fix.en}`,
          };
        case 'missing':
          return {
            zh: `检测异常：找不到默认模型 ${m} 的权重文件，${off.zh}。${fix.zh}`,
            en: `Detection degraded: the weights of the default model ${m} are missing, so ${off.en}. ${fix.en}`,
          };
        default:
          return {
            zh: `检测异常：默认模型 ${m} 无法加载，${off.zh}。请管理员查看服务器日志。`,
            en: `Detection degraded: the default model ${m} could not be loaded, so ${off.en}. An administrator should check the server log.`,
          };
      }
    }
  }
}
