import { Logger, Module } from '@nestjs/common';
import { DASHBOARD_FILES, DashboardController } from './dashboard.controller.js';
import { DASHBOARD_DIR, loadDashboardFiles } from './dashboard-files.js';

/**
 * The live dashboard at `GET /` (heygen-api/web/, built by Vite into dist/web): imported by
 * AppModule unless DASHBOARD=off, when `GET /` is an unknown route like any other (404).
 */
@Module({
  controllers: [DashboardController],
  providers: [
    {
      provide: DASHBOARD_FILES,
      useFactory: () => {
        const files = loadDashboardFiles();
        if (!files.built) {
          new Logger('Dashboard').warn(
            `not built (${DASHBOARD_DIR} is missing): GET / answers 404; run \`npm run build -w heygen-api\``,
          );
        }
        return files;
      },
    },
  ],
})
export class DashboardModule {}
