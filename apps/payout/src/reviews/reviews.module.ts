import { Module } from '@nestjs/common';
import { AdjudicationModule } from '../adjudication/adjudication.module';
import { ContractsModule } from '../contracts/contracts.module';
import { PoliciesModule } from '../policies/policies.module';
import { ReviewRepository } from './review.repository';
import { DecideReviewService } from './decide-review/decide-review.service';
import { DecideReviewHttpController } from './decide-review/decide-review.http.controller';
import { ListReviewsHttpController } from './list-reviews/list-reviews.http.controller';

/** Manual review: the insurer's pended claims, and the reviewer's decision, settled like an automatic one. */
@Module({
  imports: [AdjudicationModule, ContractsModule, PoliciesModule],
  controllers: [ListReviewsHttpController, DecideReviewHttpController],
  providers: [ReviewRepository, DecideReviewService],
})
export class ReviewsModule {}
